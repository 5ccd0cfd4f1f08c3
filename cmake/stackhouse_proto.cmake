# stackhouse_message_proto(TARGET <lib> PROTO <path under proto/>): generates the C++ of one
# message-only .proto (no services) into the build tree and builds it as a static library whose
# users include "<path>.pb.h".
function(stackhouse_message_proto)
  cmake_parse_arguments(ARG "" "TARGET;PROTO" "" ${ARGN})
  set(proto_root ${PROJECT_SOURCE_DIR}/proto)
  set(gen_dir ${CMAKE_CURRENT_BINARY_DIR}/gen)
  string(REGEX REPLACE "\\.proto$" "" stem ${ARG_PROTO})
  get_filename_component(sub_dir ${stem} DIRECTORY)
  file(MAKE_DIRECTORY ${gen_dir}/${sub_dir})
  add_custom_command(
    OUTPUT ${gen_dir}/${stem}.pb.cc ${gen_dir}/${stem}.pb.h
    COMMAND protobuf::protoc --proto_path=${proto_root} --cpp_out=${gen_dir}
      ${proto_root}/${ARG_PROTO}
    DEPENDS ${proto_root}/${ARG_PROTO} protobuf::protoc
    COMMENT "Generating C++ from ${ARG_PROTO}"
    VERBATIM)
  add_library(${ARG_TARGET} STATIC ${gen_dir}/${stem}.pb.cc)
  target_include_directories(${ARG_TARGET} SYSTEM PUBLIC ${gen_dir})
  target_link_libraries(${ARG_TARGET} PUBLIC protobuf::libprotobuf)
endfunction()
