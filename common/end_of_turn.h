// Deferring work to the end of an event loop's turn.
//
// An HTTP I/O thread runs one event loop. When a turn of that loop finds
// several requests ready, work they share (one write-ahead-log flush for all
// of their writes) can be done once, after all of them, instead of once per
// request. The thread installs an EndOfTurnScope for as long as its loop runs;
// code called from the loop's handlers then uses DeferToEndOfTurn().
//
// "End of the turn" is whatever the scope's poster gives: the HTTP server posts
// to its io_context, which runs the function after the handlers it already had
// ready. Threads without a scope (tests, helper threads) get `false` back and
// must do the work at once.
//
// Thread-safety: both live in thread-local state; nothing is shared.
#ifndef KVSTORE_COMMON_END_OF_TURN_H_
#define KVSTORE_COMMON_END_OF_TURN_H_

#include <functional>

namespace kvstore {

class EndOfTurnScope {
 public:
  // Queues a function to run on this thread after the turn's ready handlers.
  using Poster = std::function<void(std::function<void()>)>;

  // Installs `post` for the calling thread until destruction. Scopes nest; the
  // innermost one wins. Must be destroyed on the thread that created it.
  explicit EndOfTurnScope(Poster post);
  ~EndOfTurnScope();

  EndOfTurnScope(const EndOfTurnScope&) = delete;
  EndOfTurnScope& operator=(const EndOfTurnScope&) = delete;

 private:
  friend bool DeferToEndOfTurn(std::function<void()> fn);

  Poster post_;
  EndOfTurnScope* outer_;
};

// Queues `fn` through the calling thread's scope and returns true; returns
// false, without running `fn`, when the thread has none.
bool DeferToEndOfTurn(std::function<void()> fn);

}  // namespace kvstore

#endif  // KVSTORE_COMMON_END_OF_TURN_H_
