# kvstore_warnings: link it to our own targets only (never to generated code).
add_library(kvstore_warnings INTERFACE)
target_compile_options(kvstore_warnings INTERFACE
  -Wall -Wextra -Wshadow -Wnon-virtual-dtor -Woverloaded-virtual -Wpedantic
  -Wimplicit-fallthrough -Wformat=2)
if(KVSTORE_WERROR)
  target_compile_options(kvstore_warnings INTERFACE -Werror)
endif()

# Clang's lock analysis of ABSL_GUARDED_BY and friends (the `clang` preset). GCC ignores the
# annotations, so only this build checks them.
option(KVSTORE_THREAD_SAFETY "Check lock annotations with clang's -Wthread-safety" OFF)
if(KVSTORE_THREAD_SAFETY)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "KVSTORE_THREAD_SAFETY needs clang (the clang preset)")
  endif()
  target_compile_options(kvstore_warnings INTERFACE -Wthread-safety
                         -Werror=thread-safety)
endif()
