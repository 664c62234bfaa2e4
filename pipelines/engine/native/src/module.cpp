// Node binding of the engine core. Every heavy call runs on a libuv worker thread (Napi::AsyncWorker);
// a Model accepts one call at a time (the JS host serializes; a second concurrent call is rejected).
//   load(opts) -> Promise<Model>; model.info(); model.ask({images, prefix, questions}) -> Promise; model.close()
#include <napi.h>

#include <atomic>
#include <cstdio>
#include <memory>

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
};

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
            out_ = shared_->engine->ask(images, prefix, questions);
        } catch (const std::exception & e) {
            SetError(e.what());
        }
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

Napi::Value Model::Ask(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsObject()) throw Napi::TypeError::New(env, "ask({images, prefix, questions})");
    Napi::Object req = info[0].As<Napi::Object>();
    if (shared_->busy.exchange(true)) throw Napi::Error::New(env, "the model is busy with another call");
    auto * w = new AskWorker(env, shared_);
    Napi::Array imgs = req.Get("images").As<Napi::Array>();
    for (uint32_t i = 0; i < imgs.Length(); i++) {
        Napi::Buffer<uint8_t> b = imgs.Get(i).As<Napi::Buffer<uint8_t>>();
        w->images.emplace_back(b.Data(), b.Data() + b.Length());
    }
    w->prefix = opt_str(req, "prefix");
    Napi::Array qs = req.Get("questions").As<Napi::Array>();
    for (uint32_t i = 0; i < qs.Length(); i++) {
        Napi::Object q = qs.Get(i).As<Napi::Object>();
        w->questions.push_back({opt_str(q, "suffix"), opt_str(q, "grammar"), opt_int(q, "maxTokens", 256)});
    }
    Napi::Promise p = w->promise();
    w->Queue();
    return p;
}

Napi::Value Model::Close(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    if (shared_->busy.exchange(true)) throw Napi::Error::New(env, "the model is busy with another call");
    auto * w = new CloseWorker(env, shared_);
    Napi::Promise p = w->promise();
    w->Queue();
    return p;
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

Napi::Object Init(Napi::Env env, Napi::Object exports) {
    mtmd_helper_log_set(log_cb, nullptr);
    Model::Init(env, exports);
    exports.Set("load", Napi::Function::New(env, Load));
    exports.Set("setLogLevel", Napi::Function::New(env, SetLogLevel));
    exports.Set("variant", VIGIL_VARIANT);
    exports.Set("marker", mtmd_default_marker());
    return exports;
}

}  // namespace

NODE_API_MODULE(vigil_mtmd, Init)
