// ThreadSanitizer's suppressions, compiled into each unit-test binary of the tsan preset only.
//
// libstdc++.so is not built with ThreadSanitizer, so it cannot see the atomic reference count of
// std::exception_ptr (_M_addref/_M_release in eh_ptr.cc): an exception_ptr released last on
// another thread than the one that read its exception is reported as a race on the exception's
// memory, though the count orders the two. Asynchronous writes hand their error from the writer
// thread to a pool thread that way (ADR 0027). Narrow: only stacks through std::__exception_ptr.
extern "C" const char* __tsan_default_suppressions() { return "race:__exception_ptr\n"; }
