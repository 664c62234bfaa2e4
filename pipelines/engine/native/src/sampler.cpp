#include "sampler.h"

#include <cmath>
#include <stdexcept>

namespace vigil {

GrammarSampler::GrammarSampler(const llama_vocab * vocab, const std::string & grammar)
    : vocab_(vocab), n_vocab_(llama_vocab_n_tokens(vocab)) {
    if (!grammar.empty()) {
        grammar_ = llama_sampler_init_grammar(vocab, grammar.c_str(), "root");
        if (!grammar_) throw std::runtime_error("the answer grammar (GBNF) did not parse");
    }
    cur_.resize(n_vocab_);
}

GrammarSampler::~GrammarSampler() {
    if (grammar_) llama_sampler_free(grammar_);
}

static llama_token argmax(const float * logits, int n) {
    llama_token best = 0;
    for (int i = 1; i < n; i++) {
        if (logits[i] > logits[best]) best = i;
    }
    return best;
}

llama_token GrammarSampler::sample(const float * logits) {
    llama_token best = argmax(logits, n_vocab_);
    if (std::isnan(logits[best]) || std::isnan(logits[0])) throw std::runtime_error("the model produced NaN logits (broken or unstable weights)");
    if (!grammar_) return best;

    llama_token_data single = {best, logits[best], 0.0f};
    llama_token_data_array one = {&single, 1, -1, false};
    llama_sampler_apply(grammar_, &one);
    if (std::isfinite(one.data[0].logit)) return best;

    for (int i = 0; i < n_vocab_; i++) cur_[i] = {i, logits[i], 0.0f};
    llama_token_data_array all = {cur_.data(), cur_.size(), -1, false};
    llama_sampler_apply(grammar_, &all);
    llama_token pick = -1;
    float pick_logit = -INFINITY;
    for (size_t i = 0; i < all.size; i++) {
        if (all.data[i].logit > pick_logit) {
            pick_logit = all.data[i].logit;
            pick = all.data[i].id;
        }
    }
    if (pick < 0) throw std::runtime_error("the grammar allows no token here");
    return pick;
}

void GrammarSampler::accept(llama_token token) {
    if (grammar_) llama_sampler_accept(grammar_, token);
}

}  // namespace vigil
