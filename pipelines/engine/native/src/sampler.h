// Greedy sampling constrained by a GBNF grammar, one instance per sequence.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "llama.h"

namespace vigil {

/** What the grammar sampler needs to know about every token's text, computed once per model: the grammar's
 *  verdict on a token depends only on its text (as llama.cpp renders it for grammars, special tokens included),
 *  and no token can be allowed whose first byte, or first two bytes, the grammar rejects. */
class VocabIndex {
  public:
    explicit VocabIndex(const llama_vocab * vocab);

    const llama_vocab * vocab;
    int n_vocab;
    std::vector<llama_token> eog;                      // end-of-generation tokens: the grammar decides alone
    std::array<std::vector<llama_token>, 256> one_byte;  // tokens whose text is exactly that byte
    std::vector<std::vector<llama_token>> longer;      // by first byte << 8 | second byte, longer texts
    std::array<int, 256> longer_count{};               // longer tokens per first byte
    // Tokens with an empty text are in none of these: grammars reject them whatever their state.
};

class GrammarSampler {
  public:
    /** Throws std::runtime_error when the grammar does not parse. An empty grammar means unconstrained. */
    GrammarSampler(const VocabIndex & index, const std::string & grammar);
    ~GrammarSampler();
    GrammarSampler(const GrammarSampler &) = delete;
    GrammarSampler & operator=(const GrammarSampler &) = delete;

    /** Picks the most likely token the grammar allows (on equal logits the lowest id), exactly as applying the
     *  grammar to the whole vocabulary and taking the best would. Like llama.cpp's common sampler it first
     *  checks only the unconstrained best token; when that is rejected, it rules out tokens by their first bytes
     *  and asks the grammar about the rest best first, in growing rounds. */
    llama_token sample(const float * logits);
    void accept(llama_token token);

  private:
    bool allows(llama_token token);
    void rule_out_by_head();
    llama_token best_allowed(const float * logits);

    const VocabIndex & index_;
    llama_sampler * grammar_ = nullptr;
    std::array<uint8_t, 256> first_ok_{};
    std::vector<uint8_t> head_ok_;        // by VocabIndex::head, valid for the first bytes in refined_
    std::array<uint8_t, 256> refined_{};
    std::vector<llama_token_data> cur_;
};

}  // namespace vigil
