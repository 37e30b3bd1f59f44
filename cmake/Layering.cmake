# The layering of DESIGN.md §2, enforced by the compiler: there is no include path to src/. Each
# module target gets its own include root in the build tree holding one symlink, <module> ->
# src/<module> (services/api -> src/services/api for nested ones), as its PUBLIC include
# directory. Linking a module therefore grants exactly its headers (and, through its PUBLIC links,
# those of the modules it builds on); including a header of a module the target does not link
# fails with "No such file or directory". tests/layering proves it.
function(todo_module_headers target module)
  set(root ${PROJECT_BINARY_DIR}/include/${target})
  get_filename_component(parent ${root}/${module} DIRECTORY)
  file(MAKE_DIRECTORY ${parent})
  file(CREATE_LINK ${PROJECT_SOURCE_DIR}/src/${module} ${root}/${module} SYMBOLIC)
  target_include_directories(${target} PUBLIC ${root})
endfunction()
