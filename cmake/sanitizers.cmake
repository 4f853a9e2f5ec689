# ASan + UBSan for the whole build (the `asan` preset turns it on).
if(KVSTORE_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer
                      -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()

# ThreadSanitizer (the `tsan` preset). Every lock and atomic must be visible to it, so abseil
# comes from scripts/tsan_deps.sh, built with -fsanitize=thread (Debian's is not).
if(KVSTORE_TSAN)
  if(KVSTORE_SANITIZE)
    message(FATAL_ERROR "KVSTORE_TSAN and KVSTORE_SANITIZE cannot be combined")
  endif()
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer)
  add_link_options(-fsanitize=thread)
endif()

# libFuzzer (the `fuzz` preset, with KVSTORE_SANITIZE): every library gets coverage
# instrumentation; the fuzz targets (tests/fuzz) link the fuzzer's main.
if(KVSTORE_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "KVSTORE_FUZZ needs clang (the fuzz preset uses clang++-14)")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()
