#include "backend.h"

#include "ggml-cpu.h"

namespace vigil {

size_t ensure_backends(const std::string & bins_dir) {
    if (ggml_backend_dev_count() == 0) {
        ggml_backend_load_all_from_path(bins_dir.empty() ? nullptr : bins_dir.c_str());
    }
    return ggml_backend_dev_count();
}

std::string describe_devices() {
    std::string out;
    for (size_t i = 0; i < ggml_backend_dev_count(); i++) {
        ggml_backend_dev_t dev = ggml_backend_dev_get(i);
        if (!out.empty()) out += ", ";
        out += ggml_backend_dev_name(dev);
    }
    return out;
}

CpuThreadpool::CpuThreadpool(int n_threads) {
    ggml_backend_dev_t cpu = ggml_backend_dev_by_type(GGML_BACKEND_DEVICE_TYPE_CPU);
    if (!cpu) return;
    ggml_backend_reg_t reg = ggml_backend_dev_backend_reg(cpu);
    using new_fn = ggml_threadpool_t (*)(ggml_threadpool_params *);
    using free_fn = void (*)(ggml_threadpool_t);
    auto make = reinterpret_cast<new_fn>(ggml_backend_reg_get_proc_address(reg, "ggml_threadpool_new"));
    free_ = reinterpret_cast<free_fn>(ggml_backend_reg_get_proc_address(reg, "ggml_threadpool_free"));
    if (!make || !free_) return;
    ggml_threadpool_params params = ggml_threadpool_params_default(n_threads);
    pool_ = make(&params);
}

CpuThreadpool::~CpuThreadpool() {
    if (pool_ && free_) free_(pool_);
}

}  // namespace vigil
