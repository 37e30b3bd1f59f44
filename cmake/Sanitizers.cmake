# ASan + UBSan for the dev and ci presets; ThreadSanitizer for the tsan preset. TSan cannot be
# combined with ASan, so the two options exclude each other.
option(TODO_SANITIZE "Build with AddressSanitizer and UndefinedBehaviorSanitizer" OFF)
option(TODO_SANITIZE_THREAD "Build with ThreadSanitizer" OFF)
if(TODO_SANITIZE AND TODO_SANITIZE_THREAD)
  message(FATAL_ERROR "TODO_SANITIZE and TODO_SANITIZE_THREAD cannot be combined")
endif()
# Without vptr: UBSan's vptr check probes memory through a pipe(2), and with no descriptor left
# (the accept loop's EMFILE path, tests/system/test_descriptor_exhaustion.py) it reports a false
# "invalid vptr" and aborts.
if(TODO_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-sanitize=vptr -fno-omit-frame-pointer
    -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()
if(TODO_SANITIZE_THREAD)
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer)
  add_link_options(-fsanitize=thread)
endif()
