// Compiles only if the repository's headers are not on this target's include
// path: it links no kvstore target.
#if __has_include("client/client.h") || __has_include("common/status_http.h")
#error "kvstore's include path leaked into a target that does not link it"
#endif
int main() { return 0; }
