// Checks Vigil's grammar sampler against the plain rule it must keep: the pick is the token a full-vocabulary
// grammar pass allows with the highest logit (lowest id on equal logits). Random logits (random-weight models
// make the unconstrained best token almost always rejected, the path the sampler shortcuts), some rounded so
// that equal logits are common, under each grammar given; every run continues until end of generation.
//   sampler-check <bins dir> <model> <runs per grammar> <grammar file>...
// Prints one JSON line: steps, rejected (steps whose unconstrained best token was not allowed), mismatches.
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "backend.h"
#include "sampler.h"

static std::string read_file(const char * path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) throw std::runtime_error(std::string("cannot read ") + path);
    return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

// The reference: the grammar applied to every token, then the best survivor.
static llama_token full_pass(llama_sampler * grammar, const std::vector<float> & logits) {
    std::vector<llama_token_data> all(logits.size());
    for (size_t i = 0; i < logits.size(); i++) all[i] = {(llama_token) i, logits[i], 0.0f};
    llama_token_data_array arr = {all.data(), all.size(), -1, false};
    llama_sampler_apply(grammar, &arr);
    llama_token pick = -1;
    for (const auto & t : all) {
        if (std::isfinite(t.logit) && (pick < 0 || t.logit > all[pick].logit)) pick = t.id;
    }
    return pick;
}

int main(int argc, char ** argv) {
    if (argc < 5) {
        std::cerr << "usage: sampler-check <bins dir> <model> <runs per grammar> <grammar file>...\n";
        return 2;
    }
    vigil::ensure_backends(argv[1]);
    llama_model_params mp = llama_model_default_params();
    mp.vocab_only = true;
    llama_model * model = llama_model_load_from_file(argv[2], mp);
    if (!model) {
        std::cerr << "sampler-check: cannot load " << argv[2] << "\n";
        return 1;
    }
    const llama_vocab * vocab = llama_model_get_vocab(model);
    vigil::VocabIndex index(vocab);
    const int runs = std::stoi(argv[3]);
    std::mt19937 rng(1234);
    std::normal_distribution<float> normal(0.0f, 3.0f);
    long steps = 0, rejected = 0, mismatches = 0;
    std::vector<float> logits(index.n_vocab);
    for (int g = 4; g < argc; g++) {
        std::string gbnf = read_file(argv[g]);
        for (int run = 0; run < runs; run++) {
            vigil::GrammarSampler ours(index, gbnf);
            llama_sampler * ref = llama_sampler_init_grammar(vocab, gbnf.c_str(), "root");
            for (int step = 0; step < 256; step++) {
                const bool rounded = (run + step) % 3 == 0;
                for (float & l : logits) l = rounded ? std::round(normal(rng)) : normal(rng);
                llama_token want = full_pass(ref, logits);
                llama_token best = 0;
                for (int i = 1; i < index.n_vocab; i++) best = logits[i] > logits[best] ? i : best;
                rejected += want != best;
                llama_token got = -1;
                try {
                    got = ours.sample(logits.data());
                } catch (const std::exception &) {
                    got = -1;
                }
                steps++;
                if (got != want) {
                    mismatches++;
                    std::fprintf(stderr, "%s run %d step %d: sampler %d, full pass %d\n", argv[g], run, step, got, want);
                }
                if (want < 0 || llama_vocab_is_eog(vocab, want)) break;
                ours.accept(want);
                llama_sampler_accept(ref, want);
            }
            llama_sampler_free(ref);
        }
    }
    std::printf("{\"steps\":%ld,\"rejected\":%ld,\"mismatches\":%ld}\n", steps, rejected, mismatches);
    llama_model_free(model);
    return 0;
}
