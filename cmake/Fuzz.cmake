# libFuzzer targets (tests/fuzz) under ASan and UBSan, for the fuzz preset (clang only).
# With TODO_FUZZ every library is instrumented for coverage (-fsanitize=fuzzer-no-link) and
# checked by ASan and UBSan; only the fuzz executables get libFuzzer's main (-fsanitize=fuzzer).
# Build the targets by name (the fuzz build preset does: todo_fuzz), so only the libraries they
# link are compiled.
option(TODO_FUZZ "Build the libFuzzer targets in tests/fuzz (clang)" OFF)

if(TODO_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "TODO_FUZZ needs clang (libFuzzer): use the fuzz preset")
  endif()
  if(TODO_SANITIZE)
    message(FATAL_ERROR "TODO_FUZZ brings its own sanitizers: configure with TODO_SANITIZE=OFF")
  endif()
  # -fno-sanitize=function: with it clang 14 cannot compile the coroutines of http/server.cpp
  # ("Cannot represent a difference across sections", llvm/llvm-project#49689, fixed in 15).
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize=function
    -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  # cmake/Warnings.cmake passes GCC's -Wno-restrict, which clang does not know (and -Werror would
  # turn that into an error); every warning clang does know stays on and an error.
  add_compile_options(-Wno-unknown-warning-option)
  add_link_options(-fsanitize=address,undefined)
endif()

# todo_fuzz_target(<name> <libraries>...): tests/fuzz/<name>.cpp becomes fuzz_<name>, linked with
# <libraries>; its seeds are in tests/fuzz/corpus/<name>/. Every target joins `todo_fuzz` and the
# list that tests/fuzz/run.sh runs (targets.txt in the build folder, see todo_fuzz_write_list).
function(todo_fuzz_target name)
  add_executable(fuzz_${name} ${CMAKE_CURRENT_SOURCE_DIR}/${name}.cpp)
  target_link_libraries(fuzz_${name} PRIVATE ${ARGN})
  # The unit tests' support headers (real time zones from their TZif fixtures).
  target_include_directories(fuzz_${name} PRIVATE ${PROJECT_SOURCE_DIR}/src
    ${PROJECT_SOURCE_DIR}/tests/unit ${CMAKE_CURRENT_SOURCE_DIR})
  target_compile_definitions(fuzz_${name} PRIVATE
    TODO_UNIT_TESTS_DIR="${PROJECT_SOURCE_DIR}/tests/unit")
  target_link_options(fuzz_${name} PRIVATE -fsanitize=fuzzer)
  todo_warnings(fuzz_${name})
  add_dependencies(todo_fuzz fuzz_${name})
  set_property(GLOBAL APPEND PROPERTY TODO_FUZZ_TARGETS ${name})
endfunction()

# Writes the names of the targets declared so far, one a line, to targets.txt.
function(todo_fuzz_write_list)
  get_property(names GLOBAL PROPERTY TODO_FUZZ_TARGETS)
  list(JOIN names "\n" text)
  file(WRITE ${CMAKE_CURRENT_BINARY_DIR}/targets.txt.tmp "${text}\n")
  configure_file(${CMAKE_CURRENT_BINARY_DIR}/targets.txt.tmp ${CMAKE_CURRENT_BINARY_DIR}/targets.txt
    COPYONLY)
endfunction()
