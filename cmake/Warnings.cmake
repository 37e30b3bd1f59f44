# Warnings as errors on our own code; third-party headers come in as SYSTEM includes.
# -Wnull-dereference is left out: at -O3 GCC 12 reports it inside Asio and libstdc++ headers.
function(todo_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
    -Wcast-align -Wunused -Woverloaded-virtual -Wformat=2 -Werror)
endfunction()
