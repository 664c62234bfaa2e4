# Vigil's bridge to llama.cpp's libmtmd, built by node-gyp from the llama.cpp source bundled in the installed
# node-llama-cpp (cloned into llama-src/ by build.mjs) and linked against that package's prebuilt libraries.
# One addon per installed variant (cpu, cuda, vulkan); the mtmd objects and the engine core compile once.
{
  'variables': {
    'has_cuda%': '<!(node gyp-info.mjs has cuda)',
    'has_vulkan%': '<!(node gyp-info.mjs has vulkan)',
  },
  'target_defaults': {
    'cflags!': ['-fno-exceptions', '-O2', '-O0'],
    'cflags_cc!': ['-fno-exceptions', '-fno-rtti', '-std=gnu++17', '-O2', '-O0'],
    'cflags': ['-O3', '-fPIC', '-pthread', '-fvisibility=hidden', '-Wno-unused-parameter', '-Wno-missing-field-initializers', '-Wno-cast-qual'],
    'cflags_cc': ['-std=c++17', '-fexceptions', '-frtti', '-fvisibility-inlines-hidden'],
    'defines': ['NDEBUG', 'LLAMA_SHARED', 'LLAMA_BUILD', 'GGML_SHARED', 'NAPI_VERSION=8', 'NAPI_CPP_EXCEPTIONS'],
    'include_dirs': [
      'llama-src/include', 'llama-src/ggml/include', 'llama-src/tools/mtmd',
      'llama-src/vendor', 'llama-src/vendor/hash',
    ],
  },
  'targets': [
    {
      'target_name': 'mtmd',
      'type': 'static_library',
      'sources': ['<!@(node gyp-info.mjs sources)', 'src/sha1-unit.cpp'],
      'cflags': ['-w'],  # third-party code: its warnings are not ours to fix
    },
    {
      'target_name': 'vigil_core',
      'type': 'static_library',
      'sources': ['src/engine.cpp', 'src/sampler.cpp', 'src/backend.cpp'],
    },
    {
      'target_name': 'vigil_mtmd_cpu',
      'type': 'loadable_module',
      'product_extension': 'node',
      'product_prefix': '',
      'sources': ['src/module.cpp'],
      'include_dirs': ['<!(node -p "require(\'node-addon-api\').include_dir")'],
      'dependencies': ['vigil_core', 'mtmd'],
      'defines': ['VIGIL_VARIANT="cpu"'],
      # $ORIGIN-relative rpath first (survives moving the checkout); make turns \\$$ into a literal $.
        'ldflags': ['-Wl,-rpath,\\$$ORIGIN/<!(node gyp-info.mjs relbins cpu)', '<!@(node gyp-info.mjs ldflags cpu)'],
      'libraries': ['<!@(node gyp-info.mjs libraries cpu)'],
    },
    {
      'target_name': 'vigil_mtmd_cuda',
      'conditions': [['has_cuda==1', {
        'type': 'loadable_module',
        'product_extension': 'node',
        'product_prefix': '',
        'sources': ['src/module.cpp'],
        'include_dirs': ['<!(node -p "require(\'node-addon-api\').include_dir")'],
        'dependencies': ['vigil_core', 'mtmd'],
        'defines': ['VIGIL_VARIANT="cuda"'],
        # $ORIGIN-relative rpath first (survives moving the checkout); make turns \\$$ into a literal $.
        'ldflags': ['-Wl,-rpath,\\$$ORIGIN/<!(node gyp-info.mjs relbins cuda)', '<!@(node gyp-info.mjs ldflags cuda)'],
        'libraries': ['<!@(node gyp-info.mjs libraries cuda)'],
      }, { 'type': 'none' }]],
    },
    {
      'target_name': 'vigil_mtmd_vulkan',
      'conditions': [['has_vulkan==1', {
        'type': 'loadable_module',
        'product_extension': 'node',
        'product_prefix': '',
        'sources': ['src/module.cpp'],
        'include_dirs': ['<!(node -p "require(\'node-addon-api\').include_dir")'],
        'dependencies': ['vigil_core', 'mtmd'],
        'defines': ['VIGIL_VARIANT="vulkan"'],
        # $ORIGIN-relative rpath first (survives moving the checkout); make turns \\$$ into a literal $.
        'ldflags': ['-Wl,-rpath,\\$$ORIGIN/<!(node gyp-info.mjs relbins vulkan)', '<!@(node gyp-info.mjs ldflags vulkan)'],
        'libraries': ['<!@(node gyp-info.mjs libraries vulkan)'],
      }, { 'type': 'none' }]],
    },
  ],
}
