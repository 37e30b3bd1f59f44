# Warnings as errors on our own code; third-party headers come in as SYSTEM includes.
function(todo_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
    -Wcast-align -Wunused -Woverloaded-virtual -Wnull-dereference -Wformat=2 -Werror)
endfunction()
