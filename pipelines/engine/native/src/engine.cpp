#include "engine.h"

#include <chrono>
#include <cstring>

#include "mtmd-helper.h"
#include "sampler.h"

namespace vigil {

static double now_ms() {
    using namespace std::chrono;
    return duration<double, std::milli>(steady_clock::now().time_since_epoch()).count();
}

// A constructor that throws never runs the destructor: free what init() got before passing the error on
// (a projector that fails to load used to leak the text model and its context).
Engine::Engine(const LoadParams & p) : params_(p) {
    try {
        init(p);
    } catch (...) {
        release();
        throw;
    }
}

void Engine::init(const LoadParams & p) {
    ensure_backends(p.bins_dir);

    llama_model_params mp = llama_model_default_params();
    mp.n_gpu_layers = p.gpu_layers < 0 ? 999 : p.gpu_layers;
    model_ = llama_model_load_from_file(p.model.c_str(), mp);
    if (!model_) throw EngineFailure("llama.cpp could not load the text model " + p.model);
    vocab_ = llama_model_get_vocab(model_);

    llama_context_params cp = llama_context_default_params();
    cp.n_ctx = p.n_ctx;
    cp.n_batch = p.n_batch;
    cp.n_ubatch = p.n_ubatch;
    cp.n_seq_max = p.n_seq_max;
    cp.n_threads = p.threads;
    cp.n_threads_batch = p.threads;
    cp.kv_unified = true;  // questions share the image prefix: forking must share cells, not copy streams
    cp.no_perf = true;
    ctx_ = llama_init_from_model(model_, cp);
    if (!ctx_) throw EngineFailure("llama.cpp could not create a context (n_ctx " + std::to_string(p.n_ctx) + ")");
    pool_ = std::make_unique<CpuThreadpool>(p.threads);
    if (pool_->get()) llama_attach_threadpool(ctx_, pool_->get(), pool_->get());

    mtmd_context_params mp2 = mtmd_context_params_default();
    mp2.use_gpu = p.gpu_layers != 0;
    mp2.n_threads = p.threads;
    mp2.print_timings = false;
    mp2.warmup = p.warmup;
    mp2.image_min_tokens = p.image_min_tokens;
    mp2.image_max_tokens = p.image_max_tokens;
    mctx_ = mtmd_init_from_file(p.mmproj.c_str(), model_, mp2);
    if (!mctx_) throw EngineFailure("libmtmd could not load the projector " + p.mmproj);
    if (!mtmd_support_vision(mctx_)) throw EngineFailure("the projector " + p.mmproj + " has no vision encoder");
}

Engine::~Engine() { release(); }

void Engine::release() {
    if (mctx_) mtmd_free(mctx_);
    mctx_ = nullptr;
    if (ctx_) {
        llama_detach_threadpool(ctx_);
        llama_free(ctx_);
    }
    ctx_ = nullptr;
    pool_.reset();
    if (model_) llama_model_free(model_);
    model_ = nullptr;
}

std::string Engine::description() const {
    char buf[256];
    llama_model_desc(model_, buf, sizeof buf);
    return buf;
}

std::string Engine::piece(llama_token token) const {
    char buf[256];
    int n = llama_token_to_piece(vocab_, token, buf, sizeof buf, 0, false);
    if (n < 0) {
        std::string big(-n, '\0');
        n = llama_token_to_piece(vocab_, token, big.data(), (int32_t) big.size(), 0, false);
        return big.substr(0, n);
    }
    return std::string(buf, n);
}

// Decodes the shared prefix (text and images) on sequence 0, timing image encode apart from prefill.
int32_t Engine::prefill_prefix(const mtmd_input_chunks * chunks, AskOut & out) {
    llama_pos n_past = 0;
    llama_batch batch = llama_batch_init(params_.n_batch, 0, 1);
    for (size_t c = 0; c < mtmd_input_chunks_size(chunks); c++) {
        const mtmd_input_chunk * chunk = mtmd_input_chunks_get(chunks, c);
        if (mtmd_input_chunk_get_type(chunk) == MTMD_INPUT_CHUNK_TYPE_TEXT) {
            size_t n = 0;
            const llama_token * toks = mtmd_input_chunk_get_tokens_text(chunk, &n);
            out.prefix_tokens += (int) n;
            double t0 = now_ms();
            for (size_t i = 0; i < n;) {
                batch.n_tokens = 0;
                for (; i < n && batch.n_tokens < params_.n_batch; i++) {
                    int j = batch.n_tokens++;
                    batch.token[j] = toks[i];
                    batch.pos[j] = n_past++;
                    batch.n_seq_id[j] = 1;
                    batch.seq_id[j][0] = 0;
                    batch.logits[j] = false;
                }
                if (llama_decode(ctx_, batch) != 0) {
                    llama_batch_free(batch);
                    throw EngineFailure("llama_decode failed on the prompt prefix");
                }
            }
            out.prefix_ms += now_ms() - t0;
        } else {
            size_t n = mtmd_input_chunk_get_n_tokens(chunk);
            out.prefix_tokens += (int) n;
            out.image_tokens += (int) n;
            double t0 = now_ms();
            set_phase(Phase::Encoding);
            if (mtmd_encode_chunk(mctx_, chunk) != 0) {
                llama_batch_free(batch);
                throw EngineFailure("the image encoder failed");
            }
            double t1 = now_ms();
            encodes_++;
            set_phase(Phase::Prefill);
            out.encode_ms += t1 - t0;
            llama_pos next = n_past;
            if (mtmd_helper_decode_image_chunk(mctx_, ctx_, chunk, mtmd_get_output_embd(mctx_), n_past, 0,
                                               params_.n_batch, &next, nullptr, nullptr) != 0) {
                llama_batch_free(batch);
                throw EngineFailure("llama_decode failed on the image embeddings");
            }
            n_past = next;
            out.image_prefill_ms += now_ms() - t1;
            out.prefix_ms += now_ms() - t1;
        }
    }
    llama_batch_free(batch);
    return n_past;
}

struct Engine::Seq {
    llama_seq_id id;
    llama_pos pos;
    std::vector<llama_token> suffix;
    std::unique_ptr<GrammarSampler> sampler;
    int row = -1;                  // batch row of the last decode whose logits are this sequence's next token
    std::vector<float> logits;     // a copy, only when another decode ran before sampling (suffixes > n_batch)
    int max_tokens;
    bool done = false;

    const float * next_logits(llama_context * ctx) const {
        return row >= 0 ? llama_get_logits_ith(ctx, row) : logits.data();
    }
};

// One llama_batch for a whole ask, refilled for every decode (no allocation per step).
class Engine::Batch {
  public:
    Batch(llama_context * ctx, int capacity) : ctx_(ctx), b_(llama_batch_init(capacity, 0, 1)), capacity_(capacity) {}
    ~Batch() { llama_batch_free(b_); }
    Batch(const Batch &) = delete;
    Batch & operator=(const Batch &) = delete;

    bool full() const { return b_.n_tokens == capacity_; }
    bool empty() const { return b_.n_tokens == 0; }
    /** Returns the token's row, the index its logits are read back by. */
    int add(Seq & s, llama_token tok, bool logits) {
        if (full()) throw EngineFailure("more sequences than the batch holds (n_batch " + std::to_string(capacity_) + ")");
        int j = b_.n_tokens++;
        b_.token[j] = tok;
        b_.pos[j] = s.pos++;
        b_.n_seq_id[j] = 1;
        b_.seq_id[j][0] = s.id;
        b_.logits[j] = logits;
        return j;
    }
    void decode() {
        if (llama_decode(ctx_, b_) != 0) throw EngineFailure("llama_decode failed");
        b_.n_tokens = 0;
    }

  private:
    llama_context * ctx_;
    llama_batch b_;
    int capacity_;
};

// Every question's suffix in as few batches as n_batch allows; each sequence keeps its last token's logits.
void Engine::prefill_suffixes(std::vector<Seq> & seqs, Batch & batch) {
    std::vector<Seq *> waiting;  // sequences whose logits row is in the batch being filled
    auto decode = [&](bool last) {
        batch.decode();
        if (last) return;
        // A later decode overwrites the logits: keep a copy (only when the suffixes exceed n_batch).
        const int n_vocab = llama_vocab_n_tokens(vocab_);
        for (Seq * s : waiting) {
            const float * l = llama_get_logits_ith(ctx_, s->row);
            s->logits.assign(l, l + n_vocab);
            s->row = -1;
        }
        waiting.clear();
    };
    for (Seq & s : seqs) {
        for (size_t i = 0; i < s.suffix.size(); i++) {
            if (batch.full()) decode(false);
            bool last = i + 1 == s.suffix.size();
            int row = batch.add(s, s.suffix[i], last);
            if (last) {
                s.row = row;
                waiting.push_back(&s);
            }
        }
    }
    if (!batch.empty()) decode(true);
}

// Every unfinished sequence advances one token per llama_decode, together. Kept out of line so that a profile
// tells its llama_decode calls from the prompt's (test/bench/engine-instructions.bench.ts relies on it).
__attribute__((noinline)) void Engine::decode_answers(std::vector<Seq> & seqs, Batch & batch, AskOut & out) {
    for (;;) {
        for (size_t q = 0; q < seqs.size(); q++) {
            Seq & s = seqs[q];
            if (s.done) continue;
            AnswerOut & a = out.answers[q];
            llama_token tok = s.sampler->sample(s.next_logits(ctx_));
            if (llama_vocab_is_eog(vocab_, tok)) {
                s.done = true;
                a.stop = "eog";
                continue;
            }
            s.sampler->accept(tok);
            a.text += piece(tok);
            a.output_tokens++;
            if (a.output_tokens >= s.max_tokens) {
                s.done = true;
                a.stop = "length";
                continue;
            }
            s.row = batch.add(s, tok, true);
        }
        if (batch.empty()) break;
        batch.decode();
    }
}

AskOut Engine::ask(const std::vector<std::vector<uint8_t>> & images, const std::string & prefix,
                   const std::vector<QuestionIn> & questions) {
    AskOut out;
    if (questions.empty()) return out;
    if ((int) questions.size() > n_seq_max())
        throw EngineFailure("too many questions in one ask: " + std::to_string(questions.size()) + " > " +
                            std::to_string(n_seq_max()));
    llama_memory_t mem = llama_get_memory(ctx_);
    llama_memory_clear(mem, true);

    // 1. Images + shared prefix, once.
    std::vector<mtmd_bitmap *> bitmaps;
    auto free_bitmaps = [&] { for (auto * b : bitmaps) mtmd_bitmap_free(b); };
    for (size_t i = 0; i < images.size(); i++) {
        mtmd_helper_bitmap_wrapper w = mtmd_helper_bitmap_init_from_buf(
            mctx_, images[i].data(), images[i].size(), false, mtmd_helper_init_opt_default());
        if (!w.bitmap) {
            free_bitmaps();
            throw EngineFailure("image " + std::to_string(i) + " could not be decoded (JPEG/PNG expected)");
        }
        bitmaps.push_back(w.bitmap);
    }
    mtmd_input_chunks * chunks = mtmd_input_chunks_init();
    mtmd_input_text text = {prefix.c_str(), prefix.size(), true, true};
    int32_t rc = mtmd_tokenize(mctx_, chunks, &text, (const mtmd_bitmap **) bitmaps.data(), bitmaps.size());
    free_bitmaps();
    if (rc != 0) {
        mtmd_input_chunks_free(chunks);
        throw EngineFailure(rc == 1 ? "the prompt's image markers do not match the number of images"
                                    : "the image could not be preprocessed");
    }

    // 2. Tokenize every suffix and check everything fits before spending time on the images.
    std::vector<Seq> seqs(questions.size());
    size_t need = mtmd_helper_get_n_tokens(chunks);
    for (size_t q = 0; q < questions.size(); q++) {
        Seq & s = seqs[q];
        s.id = (llama_seq_id) q;
        s.max_tokens = questions[q].max_tokens;
        const std::string & sfx = questions[q].suffix;
        int n = -llama_tokenize(vocab_, sfx.c_str(), (int32_t) sfx.size(), nullptr, 0, false, true);
        s.suffix.resize(n);
        llama_tokenize(vocab_, sfx.c_str(), (int32_t) sfx.size(), s.suffix.data(), n, false, true);
        if (s.suffix.empty()) s.suffix.push_back(llama_vocab_nl(vocab_));
        if (!vocab_index_) vocab_index_ = std::make_unique<VocabIndex>(vocab_);
        s.sampler = std::make_unique<GrammarSampler>(*vocab_index_, questions[q].grammar);
        need += s.suffix.size() + s.max_tokens;
    }
    if (need > (size_t) n_ctx()) {
        mtmd_input_chunks_free(chunks);
        throw EngineFailure("context too small: this ask needs up to " + std::to_string(need) +
                            " tokens, the context holds " + std::to_string(n_ctx()));
    }
    llama_pos n_past;
    try {
        n_past = prefill_prefix(chunks, out);
    } catch (...) {
        mtmd_input_chunks_free(chunks);
        throw;
    }
    mtmd_input_chunks_free(chunks);
    set_phase(Phase::Decoding);

    // 3. Fork the prefix into one sequence per question (unified KV: the cells are shared, not copied).
    for (size_t q = 1; q < seqs.size(); q++) llama_memory_seq_cp(mem, 0, seqs[q].id, -1, -1);

    // 4. All suffixes in one batch (split only when longer than n_batch), then 5. the answers, together.
    double t0 = now_ms();
    for (size_t q = 0; q < seqs.size(); q++) {
        seqs[q].pos = n_past;
        out.answers.push_back({});
        out.answers.back().suffix_tokens = (int) seqs[q].suffix.size();
    }
    try {
        Batch batch(ctx_, params_.n_batch);
        prefill_suffixes(seqs, batch);
        double t1 = now_ms();
        out.suffix_ms = t1 - t0;
        decode_answers(seqs, batch, out);
        out.decode_ms = now_ms() - t1;
    } catch (...) {
        llama_memory_clear(mem, true);
        throw;
    }
    llama_memory_clear(mem, true);
    return out;
}

}  // namespace vigil
