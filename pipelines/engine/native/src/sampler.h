// Greedy sampling constrained by a GBNF grammar, one instance per sequence.
#pragma once
#include <string>
#include <vector>

#include "llama.h"

namespace vigil {

class GrammarSampler {
  public:
    /** Throws std::runtime_error when the grammar does not parse. An empty grammar means unconstrained. */
    GrammarSampler(const llama_vocab * vocab, const std::string & grammar);
    ~GrammarSampler();
    GrammarSampler(const GrammarSampler &) = delete;
    GrammarSampler & operator=(const GrammarSampler &) = delete;

    /** Picks the most likely token the grammar allows. Like llama.cpp's common sampler, it first checks only
     *  the unconstrained best token against the grammar and scans the whole vocabulary only when rejected. */
    llama_token sample(const float * logits);
    void accept(llama_token token);

  private:
    const llama_vocab * vocab_;
    int n_vocab_;
    llama_sampler * grammar_ = nullptr;
    std::vector<llama_token_data> cur_;
};

}  // namespace vigil
