// Process-level ggml setup shared by every engine in the process: backend registry and the CPU threadpool.
#pragma once
#include <string>

#include "ggml-backend.h"
#include "ggml.h"

namespace vigil {

/** Loads the ggml backends from `bins_dir` unless a library user (node-llama-cpp) already has: loading twice
 *  registers duplicate devices. Returns the number of devices. */
size_t ensure_backends(const std::string & bins_dir);

/** Names of the registered devices, for diagnostics ("CPU", "CUDA0", ...). */
std::string describe_devices();

/** A persistent CPU threadpool made through the CPU backend's proc address (the CPU backend is a runtime
 *  plugin, so its symbols are not linkable). Owns the pool; null when the backend does not offer one. */
class CpuThreadpool {
  public:
    explicit CpuThreadpool(int n_threads);
    ~CpuThreadpool();
    CpuThreadpool(const CpuThreadpool &) = delete;
    CpuThreadpool & operator=(const CpuThreadpool &) = delete;
    ggml_threadpool_t get() const { return pool_; }

  private:
    ggml_threadpool_t pool_ = nullptr;
    void (*free_)(ggml_threadpool_t) = nullptr;
};

}  // namespace vigil
