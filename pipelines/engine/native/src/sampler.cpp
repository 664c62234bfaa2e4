#include "sampler.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <stdexcept>

namespace vigil {

// A first byte that starts more tokens than this is narrowed down by the second byte too (a space starts
// about half of Qwen's 151,936 tokens); fewer are left to the grammar directly.
static constexpr int REFINE_ABOVE = 1024;
// The grammar is first asked about this many of the best remaining tokens, then about eight times more each
// round, so a real model's step (whose best few tokens hold an allowed one) never walks the whole vocabulary.
static constexpr size_t FIRST_ROUND = 64;
static constexpr size_t GROWTH = 8;

// The text llama.cpp's grammar matches a token against (llama_vocab's piece cache: special tokens rendered).
static std::string grammar_text(const llama_vocab * vocab, llama_token id) {
    char buf[256];
    int n = llama_token_to_piece(vocab, id, buf, sizeof buf, 0, true);
    if (n >= 0) return std::string(buf, n);
    std::string big(-n, '\0');
    n = llama_token_to_piece(vocab, id, big.data(), (int32_t) big.size(), 0, true);
    return big.substr(0, std::max(n, 0));
}

VocabIndex::VocabIndex(const llama_vocab * v) : vocab(v), n_vocab(llama_vocab_n_tokens(v)), longer(1 << 16) {
    for (llama_token id = 0; id < n_vocab; id++) {
        if (llama_vocab_is_eog(v, id)) {
            eog.push_back(id);
            continue;
        }
        std::string text = grammar_text(v, id);
        if (text.empty() || text[0] == 0) continue;
        uint8_t b0 = (uint8_t) text[0];
        if (text.size() == 1) {
            one_byte[b0].push_back(id);
        } else {
            longer[b0 << 8 | (uint8_t) text[1]].push_back(id);
            longer_count[b0]++;
        }
    }
}

GrammarSampler::GrammarSampler(const VocabIndex & index, const std::string & grammar) : index_(index) {
    if (!grammar.empty()) {
        grammar_ = llama_sampler_init_grammar(index.vocab, grammar.c_str(), "root");
        if (!grammar_) throw std::runtime_error("the answer grammar (GBNF) did not parse");
    }
    cur_.reserve(index.n_vocab);
    head_ok_.assign(1 << 16, 0);
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

// Higher logit first; equal logits by lower id, so the pick is the one a full-vocabulary argmax makes.
static bool ranks_before(const llama_token_data & a, const llama_token_data & b) {
    return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
}

bool GrammarSampler::allows(llama_token token) {
    llama_token_data single = {token, 0.0f, 0.0f};
    llama_token_data_array one = {&single, 1, -1, false};
    llama_sampler_apply(grammar_, &one);
    return std::isfinite(single.logit);
}

llama_token GrammarSampler::sample(const float * logits) {
    llama_token best = argmax(logits, index_.n_vocab);
    if (std::isnan(logits[best]) || std::isnan(logits[0])) throw std::runtime_error("the model produced NaN logits (broken or unstable weights)");
    if (!grammar_ || allows(best)) return best;
    rule_out_by_head();
    return best_allowed(logits);
}

// Asks the grammar which bytes may come next (one question about the one-byte tokens) and, for a byte that
// starts many tokens, which bytes may follow it (on a copy of the grammar that has taken that byte). A token
// the grammar allows has an allowed first byte and an allowed first two bytes: matching is prefix by prefix,
// a UTF-8 sequence cut short included. A byte without a one-byte token stays allowed (nothing is ruled out).
void GrammarSampler::rule_out_by_head() {
    const VocabIndex & ix = index_;
    std::vector<uint8_t> byte_of;  // the bytes that have a one-byte token, in the order they are asked about
    for (int b = 0; b < 256; b++) {
        if (!ix.one_byte[b].empty()) byte_of.push_back((uint8_t) b);
    }
    auto allowed_bytes = [&](llama_sampler * g, std::array<uint8_t, 256> & ok) {
        ok.fill(1);
        std::vector<llama_token_data> ask(byte_of.size());
        for (size_t i = 0; i < byte_of.size(); i++) ask[i] = {ix.one_byte[byte_of[i]][0], 0.0f, 0.0f};
        llama_token_data_array arr = {ask.data(), ask.size(), -1, false};
        llama_sampler_apply(g, &arr);
        for (size_t i = 0; i < byte_of.size(); i++) ok[byte_of[i]] = std::isfinite(ask[i].logit);
    };
    allowed_bytes(grammar_, first_ok_);
    refined_.fill(0);
    for (int b = 0; b < 256; b++) {
        if (!first_ok_[b] || ix.longer_count[b] <= REFINE_ABOVE || ix.one_byte[b].empty()) continue;
        std::unique_ptr<llama_sampler, decltype(&llama_sampler_free)> after(llama_sampler_clone(grammar_), llama_sampler_free);
        try {
            llama_sampler_accept(after.get(), ix.one_byte[b][0]);
        } catch (const std::exception &) {
            continue;  // cannot look past this byte: leave its tokens to the grammar
        }
        std::array<uint8_t, 256> second{};
        allowed_bytes(after.get(), second);
        for (int c = 0; c < 256; c++) head_ok_[b << 8 | c] = second[c];
        refined_[b] = 1;
    }
}

// The best allowed token among those the heads leave, asking the grammar in rounds of growing size, best
// first: [0, 64), [64, 576), ... Each round's tokens all rank before every later round's, so the first round
// holding an allowed token holds the answer. In the worst case every remaining token is asked about once.
llama_token GrammarSampler::best_allowed(const float * logits) {
    const VocabIndex & ix = index_;
    cur_.clear();
    // A NaN would break nth_element's ordering; such a token is never the pick anyway.
    auto take = [&](const std::vector<llama_token> & ids) {
        for (llama_token id : ids) cur_.push_back({id, std::isnan(logits[id]) ? -INFINITY : logits[id], 0.0f});
    };
    take(ix.eog);
    for (int b = 0; b < 256; b++) {
        if (!first_ok_[b]) continue;
        take(ix.one_byte[b]);
        for (int c = 0; c < 256; c++) {
            if (!refined_[b] || head_ok_[b << 8 | c]) take(ix.longer[b << 8 | c]);
        }
    }
    size_t lo = 0;
    size_t round = FIRST_ROUND;
    while (lo < cur_.size()) {
        size_t hi = std::min(cur_.size(), lo + round);
        if (hi < cur_.size()) std::nth_element(cur_.begin() + lo, cur_.begin() + hi - 1, cur_.end(), ranks_before);
        llama_token_data_array part = {cur_.data() + lo, hi - lo, -1, false};
        llama_sampler_apply(grammar_, &part);
        const llama_token_data * pick = nullptr;
        for (size_t i = lo; i < hi; i++) {
            if (std::isfinite(cur_[i].logit) && (!pick || ranks_before(cur_[i], *pick))) pick = &cur_[i];
        }
        if (pick) return pick->id;
        lo = hi;
        round *= GROWTH;
    }
    throw std::runtime_error("the grammar allows no token here");
}

void GrammarSampler::accept(llama_token token) {
    if (grammar_) llama_sampler_accept(grammar_, token);
}

}  // namespace vigil
