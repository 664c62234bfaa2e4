// llama.cpp's vendor/hash compiles sha1.c as C++ (hash.cpp declares it without extern "C"); do the same.
#include "sha1/sha1.c"
