// Node binding of the engine core. Every heavy call runs on a libuv worker thread (Napi::AsyncWorker);
// a Model accepts one call at a time (the JS host serializes; a second concurrent call is rejected).
//   load(opts) -> Promise<Model>; model.info(); model.ask({images, prefix, questions}) -> Promise; model.close()
#include <napi.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <memory>
#ifdef __linux__
#include <sys/prctl.h>
#include <unistd.h>
#endif

#include "engine.h"
#include "mtmd-helper.h"

#ifndef VIGIL_VARIANT
#define VIGIL_VARIANT "cpu"
#endif

namespace {

using vigil::Engine;

std::atomic<int> g_log_level{GGML_LOG_LEVEL_WARN};
int g_last_level = GGML_LOG_LEVEL_INFO;

void log_cb(ggml_log_level level, const char * text, void *) {
    int lvl = level == GGML_LOG_LEVEL_CONT ? g_last_level : level;
    g_last_level = lvl;
    if (lvl >= g_log_level.load()) fputs(text, stderr);
}

struct Shared {
    std::unique_ptr<Engine> engine;
    std::atomic<bool> busy{false};
    std::atomic<uint64_t> asks{0};
};

// A call made while another runs is refused through its promise, never as a synchronous throw that an
// `await x.close().catch()` in the caller would miss.
Napi::Value rejected(Napi::Env env, const char * message) {
    auto d = Napi::Promise::Deferred::New(env);
    d.Reject(Napi::Error::New(env, message).Value());
    return d.Promise();
}

int opt_int(const Napi::Object & o, const char * key, int def) {
    Napi::Value v = o.Get(key);
    return v.IsNumber() ? v.As<Napi::Number>().Int32Value() : def;
}

std::string opt_str(const Napi::Object & o, const char * key) {
    Napi::Value v = o.Get(key);
    return v.IsString() ? v.As<Napi::String>().Utf8Value() : std::string();
}

class Model : public Napi::ObjectWrap<Model> {
  public:
    static Napi::FunctionReference ctor;
    static void Init(Napi::Env env, Napi::Object exports) {
        Napi::Function f = DefineClass(env, "Model", {
            InstanceMethod("info", &Model::Info),
            InstanceMethod("ask", &Model::Ask),
            InstanceMethod("close", &Model::Close),
            InstanceMethod("stats", &Model::Stats),
        });
        ctor = Napi::Persistent(f);
        exports.Set("Model", f);
    }
    explicit Model(const Napi::CallbackInfo & info) : Napi::ObjectWrap<Model>(info) {
        if (info.Length() != 1 || !info[0].IsExternal()) throw Napi::TypeError::New(info.Env(), "use load()");
        shared_ = *info[0].As<Napi::External<std::shared_ptr<Shared>>>().Data();
    }

  private:
    Napi::Value Info(const Napi::CallbackInfo & info);
    Napi::Value Ask(const Napi::CallbackInfo & info);
    Napi::Value Close(const Napi::CallbackInfo & info);
    Napi::Value Stats(const Napi::CallbackInfo & info);
    std::shared_ptr<Shared> shared_;
};
Napi::FunctionReference Model::ctor;

class LoadWorker : public Napi::AsyncWorker {
  public:
    LoadWorker(Napi::Env env, vigil::LoadParams p) : Napi::AsyncWorker(env), params_(std::move(p)), deferred_(env) {}
    Napi::Promise promise() { return deferred_.Promise(); }
    void Execute() override {
        try {
            shared_ = std::make_shared<Shared>();
            shared_->engine = std::make_unique<Engine>(params_);
        } catch (const std::exception & e) {
            SetError(e.what());
        }
    }
    void OnOK() override {
        auto ext = Napi::External<std::shared_ptr<Shared>>::New(Env(), &shared_);
        deferred_.Resolve(Model::ctor.New({ext}));
    }
    void OnError(const Napi::Error & e) override { deferred_.Reject(e.Value()); }

  private:
    vigil::LoadParams params_;
    std::shared_ptr<Shared> shared_;
    Napi::Promise::Deferred deferred_;
};

class AskWorker : public Napi::AsyncWorker {
  public:
    AskWorker(Napi::Env env, std::shared_ptr<Shared> s) : Napi::AsyncWorker(env), shared_(std::move(s)), deferred_(env) {}
    Napi::Promise promise() { return deferred_.Promise(); }
    std::vector<std::vector<uint8_t>> images;
    std::string prefix;
    std::vector<vigil::QuestionIn> questions;

    void Execute() override {
        try {
            if (!shared_->engine) throw std::runtime_error("the model is closed");
            shared_->asks++;
            shared_->engine->set_phase(vigil::Phase::Preparing);
            out_ = shared_->engine->ask(images, prefix, questions);
        } catch (const std::exception & e) {
            SetError(e.what());
        }
        if (shared_->engine) shared_->engine->set_phase(vigil::Phase::Idle);
    }
    void OnOK() override {
        shared_->busy = false;
        Napi::Env env = Env();
        Napi::Object r = Napi::Object::New(env);
        r.Set("encodeMs", out_.encode_ms);
        r.Set("prefixMs", out_.prefix_ms);
        r.Set("imagePrefillMs", out_.image_prefill_ms);
        r.Set("suffixMs", out_.suffix_ms);
        r.Set("decodeMs", out_.decode_ms);
        r.Set("prefixTokens", out_.prefix_tokens);
        r.Set("imageTokens", out_.image_tokens);
        Napi::Array answers = Napi::Array::New(env, out_.answers.size());
        for (size_t i = 0; i < out_.answers.size(); i++) {
            const auto & a = out_.answers[i];
            Napi::Object o = Napi::Object::New(env);
            o.Set("text", a.text);
            o.Set("suffixTokens", a.suffix_tokens);
            o.Set("outputTokens", a.output_tokens);
            o.Set("stop", a.stop);
            answers.Set(i, o);
        }
        r.Set("answers", answers);
        deferred_.Resolve(r);
    }
    void OnError(const Napi::Error & e) override {
        shared_->busy = false;
        deferred_.Reject(e.Value());
    }

  private:
    std::shared_ptr<Shared> shared_;
    vigil::AskOut out_;
    Napi::Promise::Deferred deferred_;
};

class CloseWorker : public Napi::AsyncWorker {
  public:
    CloseWorker(Napi::Env env, std::shared_ptr<Shared> s) : Napi::AsyncWorker(env), shared_(std::move(s)), deferred_(env) {}
    Napi::Promise promise() { return deferred_.Promise(); }
    void Execute() override { shared_->engine.reset(); }
    void OnOK() override {
        shared_->busy = false;
        deferred_.Resolve(Env().Undefined());
    }

  private:
    std::shared_ptr<Shared> shared_;
    Napi::Promise::Deferred deferred_;
};

Napi::Value Model::Info(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    Napi::Object r = Napi::Object::New(env);
    if (!shared_->engine) return env.Null();
    r.Set("nCtx", shared_->engine->n_ctx());
    r.Set("nSeqMax", shared_->engine->n_seq_max());
    r.Set("nEmbd", shared_->engine->n_embd());
    r.Set("description", shared_->engine->description());
    r.Set("devices", vigil::describe_devices());
    return r;
}

// Arguments are converted (and rejected with a TypeError) before the model is marked busy: a conversion
// that throws must not leave it busy for good.
Napi::Value Model::Ask(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsObject()) throw Napi::TypeError::New(env, "ask({images, prefix, questions})");
    Napi::Object req = info[0].As<Napi::Object>();
    Napi::Value imgsV = req.Get("images"), qsV = req.Get("questions");
    if (!imgsV.IsArray() || !qsV.IsArray()) throw Napi::TypeError::New(env, "ask(): images and questions must be arrays");
    std::vector<std::vector<uint8_t>> images;
    Napi::Array imgs = imgsV.As<Napi::Array>();
    for (uint32_t i = 0; i < imgs.Length(); i++) {
        Napi::Value v = imgs.Get(i);
        if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
            throw Napi::TypeError::New(env, "ask(): images[" + std::to_string(i) + "] must be a Buffer or Uint8Array");
        Napi::Uint8Array b = v.As<Napi::Uint8Array>();
        images.emplace_back(b.Data(), b.Data() + b.ElementLength());
    }
    std::vector<vigil::QuestionIn> questions;
    Napi::Array qs = qsV.As<Napi::Array>();
    for (uint32_t i = 0; i < qs.Length(); i++) {
        Napi::Value v = qs.Get(i);
        if (!v.IsObject()) throw Napi::TypeError::New(env, "ask(): questions[" + std::to_string(i) + "] must be an object");
        Napi::Object q = v.As<Napi::Object>();
        questions.push_back({opt_str(q, "suffix"), opt_str(q, "grammar"), opt_int(q, "maxTokens", 256)});
    }
    std::string prefix = opt_str(req, "prefix");
    if (shared_->busy.exchange(true)) return rejected(env, "the model is busy with another call");
    auto * w = new AskWorker(env, shared_);
    w->images = std::move(images);
    w->prefix = std::move(prefix);
    w->questions = std::move(questions);
    Napi::Promise p = w->promise();
    w->Queue();
    return p;
}

Napi::Value Model::Close(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    if (shared_->busy.exchange(true)) return rejected(env, "the model is busy with another call");
    auto * w = new CloseWorker(env, shared_);
    Napi::Promise p = w->promise();
    w->Queue();
    return p;
}

const char * phase_name(vigil::Phase p) {
    switch (p) {
        case vigil::Phase::Preparing: return "preparing";
        case vigil::Phase::Encoding: return "encoding";
        case vigil::Phase::Prefill: return "prefill";
        case vigil::Phase::Decoding: return "decoding";
        default: return "idle";
    }
}

// Readable while an ask runs (the JS thread is free then): counters for tests and supervision.
Napi::Value Model::Stats(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    Napi::Object r = Napi::Object::New(env);
    Engine * e = shared_->engine.get();
    r.Set("asks", (double) shared_->asks.load());
    r.Set("encodes", e ? (double) e->encodes() : 0.0);
    r.Set("phase", e ? phase_name(e->phase()) : "closed");
    return r;
}

Napi::Value Load(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsObject()) throw Napi::TypeError::New(env, "load({model, mmproj, ...})");
    Napi::Object o = info[0].As<Napi::Object>();
    vigil::LoadParams p;
    p.model = opt_str(o, "model");
    p.mmproj = opt_str(o, "mmproj");
    p.bins_dir = opt_str(o, "binsDir");
    p.gpu_layers = opt_int(o, "gpuLayers", 0);
    p.threads = opt_int(o, "threads", 2);
    p.n_ctx = opt_int(o, "nCtx", 4096);
    p.n_seq_max = opt_int(o, "nSeqMax", 8);
    p.n_batch = opt_int(o, "nBatch", 2048);
    p.n_ubatch = opt_int(o, "nUbatch", 512);
    p.image_min_tokens = opt_int(o, "imageMinTokens", -1);
    p.image_max_tokens = opt_int(o, "imageMaxTokens", -1);
    Napi::Value warm = o.Get("warmup");
    p.warmup = warm.IsBoolean() ? warm.As<Napi::Boolean>().Value() : true;
    auto * w = new LoadWorker(env, p);
    Napi::Promise promise = w->promise();
    w->Queue();
    return promise;
}

Napi::Value SetLogLevel(const Napi::CallbackInfo & info) {
    g_log_level = info[0].As<Napi::Number>().Int32Value();
    return info.Env().Undefined();
}

// The kernel kills this process when its parent dies, whatever the JS thread or the native threads are doing
// (a process.exit() during an encode waits for the encode). Linux only; returns whether it is armed and
// the parent pid it was armed against, so the caller can catch a parent that died before the call.
Napi::Value DieWithParent(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    Napi::Object r = Napi::Object::New(env);
#ifdef __linux__
    bool armed = prctl(PR_SET_PDEATHSIG, SIGKILL) == 0;
    r.Set("armed", armed);
    r.Set("ppid", (double) getppid());
#else
    r.Set("armed", false);
    r.Set("ppid", 0.0);
#endif
    return r;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
    mtmd_helper_log_set(log_cb, nullptr);
    Model::Init(env, exports);
    exports.Set("load", Napi::Function::New(env, Load));
    exports.Set("setLogLevel", Napi::Function::New(env, SetLogLevel));
    exports.Set("dieWithParent", Napi::Function::New(env, DieWithParent));
    exports.Set("variant", VIGIL_VARIANT);
    exports.Set("marker", mtmd_default_marker());
    return exports;
}

}  // namespace

NODE_API_MODULE(vigil_mtmd, Init)
