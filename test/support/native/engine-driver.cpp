// One ask through Vigil's engine core (the code the Node addon runs, without Node), so that it can run under
// callgrind next to llama-mtmd-cli with the same model, image, prompt and grammar.
//   engine-driver <bins dir> <model> <mmproj> <image> <grammar file> <prompt> <max tokens> <threads>
//                <image min tokens> <image max tokens>
// Prints one JSON line: output tokens, decode ms, text.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

#include "engine.h"

static std::string read_file(const char * path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) throw std::runtime_error(std::string("cannot read ") + path);
    return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

int main(int argc, char ** argv) {
    if (argc != 11) {
        std::cerr << "usage: engine-driver <bins dir> <model> <mmproj> <image> <grammar file> <prompt> <max tokens> <threads>"
                     " <image min tokens> <image max tokens>\n";
        return 2;
    }
    try {
        vigil::LoadParams p;
        p.bins_dir = argv[1];
        p.model = argv[2];
        p.mmproj = argv[3];
        p.threads = std::stoi(argv[8]);
        p.n_ctx = 1024;
        p.n_seq_max = 1;
        p.warmup = false;
        p.image_min_tokens = std::stoi(argv[9]);
        p.image_max_tokens = std::stoi(argv[10]);
        vigil::Engine engine(p);
        std::string image = read_file(argv[4]);
        std::vector<std::vector<uint8_t>> images = {std::vector<uint8_t>(image.begin(), image.end())};
        std::string prefix = std::string("<|im_start|>user\n") + mtmd_default_marker();
        vigil::QuestionIn q;
        q.suffix = std::string(argv[6]) + "<|im_end|>\n<|im_start|>assistant\n";
        q.grammar = read_file(argv[5]);
        q.max_tokens = std::stoi(argv[7]);
        vigil::AskOut out = engine.ask(images, prefix, {q});
        const vigil::AnswerOut & a = out.answers.at(0);
        std::printf("{\"outputTokens\":%d,\"decodeMs\":%.3f,\"stop\":\"%s\"}\n", a.output_tokens, out.decode_ms, a.stop.c_str());
        std::fprintf(stderr, "%s\n", a.text.c_str());
        return 0;
    } catch (const std::exception & e) {
        std::cerr << "engine-driver: " << e.what() << "\n";
        return 1;
    }
}
