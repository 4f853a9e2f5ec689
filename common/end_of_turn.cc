#include "common/end_of_turn.h"

#include <utility>

namespace kvstore {
namespace {
thread_local EndOfTurnScope* current_scope = nullptr;
}  // namespace

EndOfTurnScope::EndOfTurnScope(Poster post)
    : post_(std::move(post)), outer_(current_scope) {
  current_scope = this;
}

EndOfTurnScope::~EndOfTurnScope() { current_scope = outer_; }

bool DeferToEndOfTurn(std::function<void()> fn) {
  if (current_scope == nullptr) return false;
  current_scope->post_(std::move(fn));
  return true;
}

}  // namespace kvstore
