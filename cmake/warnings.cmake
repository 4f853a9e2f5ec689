# kvstore_warnings: link it to our own targets only (never to generated code).
add_library(kvstore_warnings INTERFACE)
target_compile_options(kvstore_warnings INTERFACE
  -Wall -Wextra -Wshadow -Wnon-virtual-dtor -Woverloaded-virtual -Wpedantic
  -Wimplicit-fallthrough -Wformat=2)
if(KVSTORE_WERROR)
  target_compile_options(kvstore_warnings INTERFACE -Werror)
endif()
