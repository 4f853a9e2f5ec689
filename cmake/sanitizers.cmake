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
