# The eBPF tree building benchmark (the server's analysis::BuildEbpfTrees). Include from bench/CMakeLists.txt (or any top level that has
# run find_package(benchmark CONFIG) and added src/analysis):
#   include(${CMAKE_CURRENT_LIST_DIR}/ebpf_analysis.cmake)
# Build it in Release (-O2) for numbers worth recording.
add_executable(ebpf_analysis_bench ${CMAKE_CURRENT_LIST_DIR}/ebpf_analysis_bench.cc)
target_compile_options(ebpf_analysis_bench PRIVATE ${STACKHOUSE_WARNINGS})
target_link_libraries(ebpf_analysis_bench PRIVATE sh_analysis benchmark::benchmark)
