# Warnings as errors on our own code; third-party headers come in as SYSTEM includes.
# -Wnull-dereference is left out and -Wrestrict is off: at -O3 GCC 12 reports false positives
# inside Asio and libstdc++ (std::string operator+, GCC bug 105651).
function(todo_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
    -Wcast-align -Wunused -Woverloaded-virtual -Wformat=2 -Wno-restrict -Werror)
endfunction()
