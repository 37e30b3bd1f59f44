# Embeds a text file in the binary as a C++ raw string literal (written only when it changes, so
# an unchanged file never triggers a rebuild).
function(todo_embed_text input output delimiter)
  file(READ ${input} text)
  file(WRITE ${output}.tmp "R\"${delimiter}(${text})${delimiter}\"")
  configure_file(${output}.tmp ${output} COPYONLY)
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${input})
endfunction()
