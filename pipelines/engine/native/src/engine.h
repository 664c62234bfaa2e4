// The vision engine core, free of Node: one text model + projector, one context with a sequence per question.
// An ask encodes the images and the shared prompt prefix once, forks the KV cache per question, then decodes
// every question's suffix and answer together in one batch, each sequence under its own grammar.
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "backend.h"
#include "llama.h"
#include "mtmd.h"
#include "sampler.h"

namespace vigil {

struct LoadParams {
    std::string model;
    std::string mmproj;
    std::string bins_dir;        // where to load ggml backends from when nobody did yet
    int gpu_layers = 0;          // -1: all
    int threads = 2;
    int n_ctx = 4096;            // total context (shared prefix + every sequence's suffix and answer)
    int n_seq_max = 8;           // most questions in one ask
    int n_batch = 2048;
    int n_ubatch = 512;
    int image_min_tokens = -1;   // -1: from the projector's metadata
    int image_max_tokens = -1;
    bool warmup = true;
};

struct QuestionIn {
    std::string suffix;          // templated text after the shared prefix, ending where the answer starts
    std::string grammar;         // GBNF, root rule "root"; empty: unconstrained
    int max_tokens = 256;
};

struct AnswerOut {
    std::string text;
    int suffix_tokens = 0;
    int output_tokens = 0;
    std::string stop;            // "eog" | "length"
};

struct AskOut {
    double encode_ms = 0, prefix_ms = 0, image_prefill_ms = 0, suffix_ms = 0, decode_ms = 0;  // prefix_ms includes image_prefill_ms
    int prefix_tokens = 0, image_tokens = 0;
    std::vector<AnswerOut> answers;
};

/** Thrown for failures that leave the engine usable (bad image, context too small, grammar error). */
struct EngineFailure : std::runtime_error {
    using std::runtime_error::runtime_error;
};

/** Where an ask is, for supervision and tests (read from another thread while the ask runs). */
enum class Phase : int { Idle = 0, Preparing = 1, Encoding = 2, Prefill = 3, Decoding = 4 };

class Engine {
  public:
    /** Throws EngineFailure with a message naming the file that failed. */
    explicit Engine(const LoadParams & params);
    ~Engine();
    Engine(const Engine &) = delete;
    Engine & operator=(const Engine &) = delete;

    AskOut ask(const std::vector<std::vector<uint8_t>> & images, const std::string & prefix,
               const std::vector<QuestionIn> & questions);

    int n_ctx() const { return (int) llama_n_ctx(ctx_); }
    int n_seq_max() const { return (int) llama_n_seq_max(ctx_); }
    int n_embd() const { return llama_model_n_embd(model_); }
    std::string description() const;
    /** Image encodes run since load (one per image chunk), and the current phase of the ask in flight. */
    uint64_t encodes() const { return encodes_.load(); }
    Phase phase() const { return (Phase) phase_.load(); }
    void set_phase(Phase p) { phase_ = (int) p; }

  private:
    struct Seq;
    class Batch;
    int32_t prefill_prefix(const mtmd_input_chunks * chunks, AskOut & out);
    void prefill_suffixes(std::vector<Seq> & seqs, Batch & batch);
    void decode_answers(std::vector<Seq> & seqs, Batch & batch, AskOut & out);
    std::unique_ptr<VocabIndex> vocab_index_;  // built on the first ask: one pass over the vocabulary
    std::string piece(llama_token token) const;

    LoadParams params_;
    llama_model * model_ = nullptr;
    llama_context * ctx_ = nullptr;
    mtmd_context * mctx_ = nullptr;
    const llama_vocab * vocab_ = nullptr;
    std::unique_ptr<CpuThreadpool> pool_;
    std::atomic<uint64_t> encodes_{0};
    std::atomic<int> phase_{0};

    void init(const LoadParams & params);
    void release();  // frees what init() got; the destructor and a failed constructor both call it
};

}  // namespace vigil
