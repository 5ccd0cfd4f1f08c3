#include "simulator/rover_stacks.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace stackhouse::sim {
namespace {

using Frames = std::vector<std::string>;

// User stacks are composed to this depth where the code path allows (recursion, JIT frames).
constexpr size_t kMinUserDepth = 20;
constexpr size_t kMaxUserDepth = 60;
constexpr double kUnknownFrameProbability = 0.08;
constexpr double kEmptyFrameProbability = 0.03;

// Where the innermost user frame leaves for the kernel, if it does.
enum class Sys { kNone, kRead, kWrite, kFutex, kEpoll, kPageFault };

// The innermost frames of a stack. Root first, like every table here.
struct Tail {
  Frames frames;
  Sys sys;
  double weight;
};

// A code path below a thread's root: fixed frames, then `filler` repeated (recursion, inlined or
// JIT-compiled frames), then one of the tails.
struct Branch {
  Frames frames;
  Frames filler;
  int min_repeat;
  int max_repeat;
  std::vector<Tail> tails;
  double weight;
};

// A kind of thread and what it runs.
struct Path {
  Frames root;
  std::vector<Branch> branches;
  double weight;
};

template <typename... Parts>
Frames Concat(const Parts&... parts) {
  Frames out;
  (out.insert(out.end(), parts.begin(), parts.end()), ...);
  return out;
}

std::vector<Path> JavaPaths() {
  const Frames java_thread_root = {
      "start_thread",
      "thread_native_entry(Thread*)",
      "Thread::call_run()",
      "JavaThread::thread_main_inner()",
      "thread_entry(JavaThread*, JavaThread*)",
      "JavaCalls::call_virtual(JavaValue*, Handle, Klass*, Symbol*, Symbol*, JavaThread*)",
      "JavaCalls::call_helper(JavaValue*, methodHandle const&, JavaCallArguments*, JavaThread*)",
      "[MISSING]",  // call_stub: generated code, no ELF symbol
  };

  const Frames cond_wait = {"___pthread_cond_timedwait64", "__pthread_cond_wait_common",
                            "__futex_abstimed_wait_common"};
  std::vector<Tail> runtime = {
      {{}, Sys::kNone, 10},  // compiled Java code only
      {{"OptoRuntime::new_array_C(Klass*, int, JavaThread*)",
        "TypeArrayKlass::allocate_common(int, bool, JavaThread*)", "MemAllocator::allocate() const",
        "MemAllocator::allocate_inside_tlab_slow(MemAllocator::Allocation&) const",
        "G1CollectedHeap::allocate_new_tlab(unsigned long, unsigned long, unsigned long*)",
        "G1CollectedHeap::attempt_allocation_slow(unsigned long)"},
       Sys::kNone,
       2},
      {{"OptoRuntime::new_instance_C(Klass*, JavaThread*)",
        "InstanceKlass::allocate_instance(JavaThread*)", "MemAllocator::allocate() const",
        "ObjAllocator::initialize(HeapWordImpl**) const", "__memset_avx2_unaligned_erms"},
       Sys::kPageFault,
       1},
      {Concat(Frames{"ObjectSynchronizer::enter(Handle, BasicLock*, JavaThread*)",
                     "ObjectMonitor::enter(JavaThread*)", "ObjectMonitor::EnterI(JavaThread*)",
                     "PlatformEvent::park()"},
              cond_wait),
       Sys::kFutex, 1.5},
      {Concat(Frames{"Unsafe_Park(JNIEnv_*, _jobject*, unsigned char, long)",
                     "Parker::park(bool, long)"},
              cond_wait),
       Sys::kFutex, 4},
      {{"Java_sun_nio_ch_SocketDispatcher_read0", "__libc_read"}, Sys::kRead, 3},
      {{"Java_sun_nio_ch_EPoll_wait", "epoll_wait"}, Sys::kEpoll, 2},
      {{"Java_sun_nio_ch_SocketDispatcher_write0", "__libc_write"}, Sys::kWrite, 1.5},
      {Concat(
           Frames{"JVM_Sleep", "JavaThread::sleep_nanos(long)", "PlatformEvent::park_nanos(long)"},
           cond_wait),
       Sys::kFutex, 0.5},
      {{"InterpreterRuntime::frequency_counter_overflow(JavaThread*, unsigned char*)",
        "InterpreterRuntime::frequency_counter_overflow_inner(JavaThread*, unsigned char*)",
        "CompilationPolicy::event(methodHandle const&, methodHandle const&, int, int, CompLevel, "
        "CompiledMethod*, JavaThread*)",
        "CompilationPolicy::method_invocation_event(methodHandle const&, methodHandle const&, "
        "CompLevel, CompiledMethod*, JavaThread*)",
        "CompileBroker::compile_method(methodHandle const&, int, int, methodHandle const&, int, "
        "CompileTask::CompileReason, JavaThread*)"},
       Sys::kNone,
       0.5},
      {{"JVM_IHashCode", "ObjectSynchronizer::FastHashCode(Thread*, oopDesc*)"}, Sys::kNone, 0.5},
      {{"Java_java_util_zip_Inflater_inflateBytesBytes", "inflate", "inflate_fast"},
       Sys::kNone,
       0.8},
      {{"SharedRuntime::resolve_opt_virtual_call_C(JavaThread*)",
        "SharedRuntime::resolve_helper(bool, bool, JavaThread*)",
        "SharedRuntime::resolve_sub_helper(bool, bool, JavaThread*)",
        "SharedRuntime::find_callee_info_helper(vframeStream&, Bytecodes::Code&, CallInfo&, "
        "JavaThread*)",
        "LinkResolver::resolve_invoke(CallInfo&, Handle, constantPoolHandle const&, int, "
        "Bytecodes::Code, JavaThread*)"},
       Sys::kNone,
       0.3},
      {{"JVM_ArrayCopy",
        "TypeArrayKlass::copy_array(arrayOopDesc*, int, arrayOopDesc*, int, int, "
        "JavaThread*)",
        "__memmove_avx_unaligned_erms"},
       Sys::kNone,
       0.4},
  };
  Path request{java_thread_root, {{{}, {"[MISSING]"}, 8, 40, runtime, 1}}, 6};

  Frames compiler_root = {
      "start_thread",
      "thread_native_entry(Thread*)",
      "Thread::call_run()",
      "JavaThread::thread_main_inner()",
      "CompileBroker::compiler_thread_loop()",
      "CompileBroker::invoke_compiler_on_method(CompileTask*)",
      "C2Compiler::compile_method(ciEnv*, ciMethod*, int, bool, DirectiveSet*)",
      "Compile::Compile(ciEnv*, ciMethod*, int, Options, DirectiveSet*)",
  };
  Branch parse{
      {"ParseGenerator::generate(JVMState*)", "Parse::Parse(JVMState*, ciMethod*, float)",
       "Parse::do_all_blocks()", "Parse::do_one_block()", "Parse::do_one_bytecode()"},
      {"Parse::do_call()", "ParseGenerator::generate(JVMState*)",
       "Parse::Parse(JVMState*, ciMethod*, float)", "Parse::do_all_blocks()",
       "Parse::do_one_block()", "Parse::do_one_bytecode()"},
      1,
      7,
      {{{"Parse::do_call()",
         "Compile::call_generator(ciMethod*, int, bool, JVMState*, "
         "bool, float, ciKlass*, bool)",
         "InlineTree::ok_to_inline(ciMethod*, JVMState*, ciCallProfile&, bool&)",
         "InlineTree::try_to_inline(ciMethod*, ciMethod*, int, JVMState*, "
         "ciCallProfile&, bool&)",
         "ciMethod::get_flow_analysis()"},
        Sys::kNone,
        2},
       {{"Parse::do_field_access(bool, bool)", "Parse::do_get_xxx(Node*, ciField*, bool)",
         "GraphKit::access_load_at(Node*, Node*, TypePtr const*, Type const*, BasicType, "
         "unsigned long)",
         "BarrierSetC2::load_at(C2Access&, Type const*) const",
         "PhaseGVN::transform_no_reclaim(Node*)"},
        Sys::kNone,
        1},
       {{"Parse::do_call()",
         "GraphKit::make_runtime_call(int, TypeFunc const*, "
         "unsigned char*, char const*, TypePtr const*, Node*, Node*, "
         "Node*, Node*, Node*, Node*, Node*, Node*)",
         "Arena::Amalloc(unsigned long, AllocFailStrategy::AllocFailEnum)",
         "Arena::grow(unsigned long, AllocFailStrategy::AllocFailEnum)",
         "ChunkPool::allocate(unsigned long, AllocFailStrategy::AllocFailEnum)",
         "os::malloc(unsigned long, MEMFLAGS, NativeCallStack const&)", "malloc", "_int_malloc"},
        Sys::kPageFault,
        0.5}},
      2};
  Branch optimize{{"Compile::Optimize()", "PhaseIdealLoop::optimize(PhaseIterGVN&, LoopOptsMode)",
                   "PhaseIdealLoop::build_and_optimize()"},
                  {},
                  0,
                  0,
                  {{{"PhaseIdealLoop::build_loop_late(VectorSet&, Node_List&, Node_Stack&)",
                     "PhaseIdealLoop::build_loop_late_post_work(Node*, bool)",
                     "PhaseIdealLoop::get_late_ctrl(Node*, Node*)",
                     "PhaseIdealLoop::compute_lca_of_uses(Node*, Node*, bool)",
                     "PhaseIdealLoop::dom_lca_for_get_late_ctrl_internal(Node*, Node*, Node*)",
                     "PhaseIdealLoop::idom_no_update(unsigned int) const",
                     "PhaseIdealLoop::idom_no_update(Node*) const", "Node::is_CFG() const",
                     "Node_Array::operator[](unsigned int) const"},
                    Sys::kNone,
                    1},
                   {{"PhaseIdealLoop::split_if_with_blocks(VectorSet&, Node_Stack&)",
                     "PhaseIdealLoop::split_if_with_blocks_post(Node*)",
                     "PhaseIdealLoop::try_sink_out_of_loop(Node*)",
                     "PhaseIdealLoop::get_late_ctrl(Node*, Node*)",
                     "PhaseIdealLoop::compute_lca_of_uses(Node*, Node*, bool)",
                     "PhaseIdealLoop::dom_lca_for_get_late_ctrl(Node*, Node*, Node*)",
                     "PhaseIdealLoop::dom_depth(Node*) const", "Node::in(unsigned int) const",
                     "PhaseIdealLoop::get_ctrl(Node const*)"},
                    Sys::kNone,
                    1}},
                  1};
  Branch codegen{
      {"Compile::Code_Gen()", "PhaseChaitin::Register_Allocate()"},
      {},
      0,
      0,
      {{{"PhaseChaitin::build_ifg_physical(ResourceArea*)",
         "PhaseChaitin::interfere_with_live(unsigned int, IndexSet*)",
         "PhaseIFG::add_edge(unsigned int, unsigned int)", "IndexSet::insert(unsigned int)",
         "IndexSet::alloc_block_containing(unsigned int)", "IndexSet::alloc_block()",
         "Arena::Amalloc_D(unsigned long)",
         "Arena::check_for_overflow(unsigned long, char const*, "
         "AllocFailStrategy::AllocFailEnum) const",
         "IndexSetIterator::advance_and_next()", "IndexSetIterator::next_value()"},
        Sys::kNone,
        1},
       {{"PhaseChaitin::Split(unsigned int, ResourceArea*)",
         "PhaseChaitin::split_USE(MachSpillCopyNode::SpillType, Node*, Block*, Node*, "
         "unsigned int, unsigned int, bool, GrowableArray<unsigned int>&, int)",
         "PhaseChaitin::get_spillcopy_wide(MachSpillCopyNode::SpillType, Node*, Node*, "
         "unsigned int)",
         "MachSpillCopyNode::MachSpillCopyNode(MachSpillCopyNode::SpillType, Node*, "
         "RegMask const&, RegMask const&)",
         "Node::Node(unsigned int)", "Node::out_grow(unsigned int)",
         "Arena::Arealloc(void*, unsigned long, unsigned long, "
         "AllocFailStrategy::AllocFailEnum)",
         "Arena::Amalloc(unsigned long, AllocFailStrategy::AllocFailEnum)",
         "__memmove_avx_unaligned_erms"},
        Sys::kNone,
        0.6}},
      0.8};
  Path compiler{compiler_root, {parse, optimize, codegen}, 1};
  return {request, compiler};
}

std::vector<Path> GoPaths() {
  Frames root = {
      "runtime.goexit.abi0",
      "net/http.(*conn).serve",
      "net/http.serverHandler.ServeHTTP",
      "net/http.(*ServeMux).ServeHTTP",
      "net/http.HandlerFunc.ServeHTTP",
      "github.com/prometheus/client_golang/prometheus/promhttp.InstrumentHandlerCounter.func1",
      "net/http.HandlerFunc.ServeHTTP",
      "github.com/prometheus/client_golang/prometheus/promhttp.InstrumentHandlerDuration.func2",
      "net/http.HandlerFunc.ServeHTTP",
      "main.(*server).withTracing.func1",
      "net/http.HandlerFunc.ServeHTTP",
      "main.(*server).handleRatings",
  };
  std::vector<Tail> io_wait = {
      {{"internal/poll.(*pollDesc).waitRead", "internal/poll.(*pollDesc).wait",
        "internal/poll.runtime_pollWait", "runtime.netpollblock", "runtime.gopark", "runtime.mcall",
        "runtime.park_m", "runtime.schedule", "runtime.findRunnable", "runtime.netpoll",
        "runtime.epollwait"},
       Sys::kEpoll,
       3},
      {{"internal/poll.(*pollDesc).waitRead", "internal/poll.(*pollDesc).wait",
        "internal/poll.runtime_pollWait", "runtime.netpollblock", "runtime.gopark", "runtime.mcall",
        "runtime.park_m", "runtime.schedule", "runtime.findRunnable", "runtime.stopm",
        "runtime.mPark", "runtime.notesleep", "runtime.futexsleep", "runtime.futex"},
       Sys::kFutex,
       2},
      {{"internal/poll.ignoringEINTRIO", "syscall.Read", "syscall.read", "syscall.Syscall",
        "syscall.RawSyscall6"},
       Sys::kRead,
       2},
  };
  Branch db{{"main.(*server).lookupRatings", "database/sql.(*DB).QueryContext",
             "database/sql.(*DB).retry", "database/sql.(*DB).QueryContext.func1",
             "database/sql.(*DB).query", "database/sql.(*DB).queryDC", "database/sql.withLock",
             "database/sql.(*DB).queryDC.func1", "database/sql.ctxDriverQuery",
             "github.com/go-sql-driver/mysql.(*mysqlConn).QueryContext",
             "github.com/go-sql-driver/mysql.(*mysqlConn).query",
             "github.com/go-sql-driver/mysql.(*mysqlConn).readResultSetHeaderPacket",
             "github.com/go-sql-driver/mysql.(*mysqlConn).readPacket",
             "github.com/go-sql-driver/mysql.(*buffer).readNext",
             "github.com/go-sql-driver/mysql.(*buffer).fill", "net.(*conn).Read",
             "net.(*netFD).Read", "internal/poll.(*FD).Read"},
            {},
            0,
            0,
            io_wait,
            3};
  Branch json{
      {"main.writeJSON", "encoding/json.(*Encoder).Encode", "encoding/json.(*encodeState).marshal",
       "encoding/json.(*encodeState).reflectValue", "encoding/json.ptrEncoder.encode",
       "encoding/json.structEncoder.encode"},
      {"encoding/json.sliceEncoder.encode", "encoding/json.arrayEncoder.encode",
       "encoding/json.ptrEncoder.encode", "encoding/json.structEncoder.encode"},
      0,
      8,
      {{{"encoding/json.stringEncoder", "encoding/json.appendString[...]"}, Sys::kNone, 4},
       {{"encoding/json.floatEncoder.encode", "strconv.AppendFloat", "strconv.genericFtoa",
         "strconv.ryuFtoaShortest", "strconv.ryuDigits", "strconv.ryuDigits32"},
        Sys::kNone,
        2},
       {{"encoding/json.mapEncoder.encode", "slices.SortFunc[...]", "slices.pdqsortCmpFunc[...]",
         "slices.insertionSortCmpFunc[...]", "encoding/json.mapEncoder.encode.func2",
         "strings.Compare"},
        Sys::kNone,
        1},
       {{"encoding/json.(*encodeState).reflectValue", "runtime.growslice", "runtime.mallocgc",
         "runtime.(*mcache).nextFree", "runtime.(*mcache).refill", "runtime.(*mcentral).cacheSpan",
         "runtime.(*mcentral).grow", "runtime.(*mheap).alloc", "runtime.systemstack.abi0",
         "runtime.(*mheap).alloc.func1", "runtime.(*mheap).allocSpan",
         "runtime.memclrNoHeapPointers"},
        Sys::kPageFault,
        0.7},
       {{"runtime.mallocgc", "runtime.gcAssistAlloc", "runtime.systemstack.abi0",
         "runtime.gcAssistAlloc.func1", "runtime.gcAssistAlloc1", "runtime.gcDrainN",
         "runtime.scanobject", "runtime.findObject"},
        Sys::kNone,
        1}},
      2};
  Branch write{{"net/http.(*response).finishRequest", "bufio.(*Writer).Flush",
                "net/http.(*response).write", "net/http.(*chunkWriter).Write",
                "bufio.(*Writer).Flush", "net/http.checkConnErrorWriter.Write", "net.(*conn).Write",
                "net.(*netFD).Write", "internal/poll.(*FD).Write"},
               {},
               0,
               0,
               {{{"internal/poll.ignoringEINTRIO", "syscall.Write", "syscall.write",
                  "syscall.Syscall", "syscall.RawSyscall6"},
                 Sys::kWrite,
                 3},
                {{"internal/poll.(*fdMutex).rwlock", "internal/poll.runtime_Semacquire",
                  "sync.runtime_SemacquireMutex", "runtime.semacquire1", "runtime.goparkunlock",
                  "runtime.gopark", "runtime.mcall", "runtime.park_m", "runtime.schedule",
                  "runtime.findRunnable", "runtime.stopm", "runtime.mPark", "runtime.notesleep",
                  "runtime.futexsleep", "runtime.futex"},
                 Sys::kFutex,
                 0.5}},
               1};
  Branch cache{{"main.(*server).cachedRatings", "github.com/redis/go-redis/v9.(*Client).Process",
                "github.com/redis/go-redis/v9.(*baseClient).process",
                "github.com/redis/go-redis/v9.(*baseClient).withConn",
                "github.com/redis/go-redis/v9.(*baseClient)._process.func1",
                "github.com/redis/go-redis/v9/internal/pool.(*Conn).WithReader",
                "github.com/redis/go-redis/v9.(*Cmd).readReply",
                "github.com/redis/go-redis/v9/internal/proto.(*Reader).ReadReply",
                "github.com/redis/go-redis/v9/internal/proto.(*Reader).readLine",
                "bufio.(*Reader).ReadSlice", "bufio.(*Reader).fill",
                "github.com/redis/go-redis/v9/internal/pool.(*Conn).Read", "net.(*conn).Read",
                "net.(*netFD).Read", "internal/poll.(*FD).Read"},
               {},
               0,
               0,
               io_wait,
               1.5};
  Path http{root, {db, json, write, cache}, 1};
  return {http};
}

std::vector<Path> EnvoyPaths() {
  Frames root = {
      "start_thread",
      "Envoy::Thread::ThreadImplPosix::ThreadImplPosix(std::function<void ()>, "
      "absl::optional<Envoy::Thread::Options> const&)::{lambda(void*)#1}::__invoke(void*)",
      "Envoy::Server::WorkerImpl::threadRoutine(Envoy::Server::GuardDog&, std::function<void ()> "
      "const&)",
      "Envoy::Event::DispatcherImpl::run(Envoy::Event::Dispatcher::RunType)",
      "event_base_loop",
  };
  Frames on_read = {
      "event_process_active",
      "event_process_active_single_queue",
      "Envoy::Event::FileEventImpl::assignEvents(unsigned int, event_base*)::$_1::__invoke(int, "
      "short, void*)",
      "Envoy::Event::FileEventImpl::mergeInjectedEventsAndRunCb(unsigned int)",
      "std::function<void (unsigned int)>::operator()(unsigned int) const",
      "Envoy::Network::ConnectionImpl::onFileEvent(unsigned int)",
      "Envoy::Network::ConnectionImpl::onReadReady()",
  };
  // An idle worker: as shallow in real profiles.
  Branch idle{{"epoll_dispatch"}, {}, 0, 0, {{{"epoll_wait"}, Sys::kEpoll, 1}}, 1};
  Branch socket_read{
      on_read,
      {},
      0,
      0,
      {{{"Envoy::Extensions::TransportSockets::Tls::SslSocket::doRead(Envoy::Buffer::Instance&)",
         "SSL_read", "ssl_read_impl",
         "bssl::ssl_open_app_data(ssl_st*, bssl::Span<unsigned char>*, "
         "unsigned long*, unsigned char*, bssl::Span<unsigned char>)",
         "bssl::tls_open_record(ssl_st*, unsigned char*, bssl::Span<unsigned char>*, unsigned "
         "long*, unsigned char*, bssl::Span<unsigned char>)",
         "bssl::SSLAEADContext::Open(bssl::Span<unsigned char>*, unsigned char, unsigned short, "
         "unsigned char const*, bssl::Span<unsigned char const>, bssl::Span<unsigned char>)",
         "EVP_AEAD_CTX_open", "aead_aes_gcm_open_gather", "aes_gcm_dec_kernel"},
        Sys::kNone,
        2},
       {{"Envoy::Extensions::TransportSockets::Tls::SslSocket::doRead(Envoy::Buffer::Instance&)",
         "SSL_read", "ssl_read_impl", "bssl::ssl_read_buffer_extend_to(ssl_st*, unsigned long)",
         "bssl::BIO_read",
         "Envoy::Extensions::TransportSockets::Tls::(anonymous "
         "namespace)::io_handle_read(bio_st*, char*, int)",
         "Envoy::Network::IoSocketHandleImpl::readv(unsigned long, Envoy::Buffer::RawSlice*, "
         "unsigned long)",
         "Envoy::Api::OsSysCallsImpl::readv(int, iovec const*, int)", "readv"},
        Sys::kRead,
        2},
       {{"Envoy::Network::RawBufferSocket::doRead(Envoy::Buffer::Instance&)",
         "Envoy::Network::IoSocketHandleImpl::read(Envoy::Buffer::Instance&, "
         "absl::optional<unsigned long>)",
         "Envoy::Network::IoSocketHandleImpl::readv(unsigned long, Envoy::Buffer::RawSlice*, "
         "unsigned long)",
         "Envoy::Api::OsSysCallsImpl::readv(int, iovec const*, int)", "readv"},
        Sys::kRead,
        2}},
      2};
  Branch http{
      Concat(
          on_read,
          Frames{"Envoy::Network::FilterManagerImpl::onContinueReading(Envoy::Network::"
                 "ActiveReadFilter*, Envoy::Network::ReadBufferSource&)",
                 "Envoy::Http::ConnectionManagerImpl::onData(Envoy::Buffer::Instance&, bool)",
                 "Envoy::Http::Http1::ServerConnectionImpl::dispatch(Envoy::Buffer::Instance&)",
                 "Envoy::Http::Http1::ConnectionImpl::dispatch(Envoy::Buffer::Instance&)",
                 "Envoy::Http::Http1::ConnectionImpl::dispatchSlice(char const*, unsigned long)",
                 "Envoy::Http::Http1::BalsaParser::execute(char const*, int)",
                 "Envoy::Http::Http1::ConnectionImpl::onMessageComplete()",
                 "Envoy::Http::Http1::ServerConnectionImpl::onMessageCompleteBase()",
                 "Envoy::Http::ConnectionManagerImpl::ActiveStream::decodeHeaders(std::unique_ptr<"
                 "Envoy::Http::RequestHeaderMap>&&, bool)",
                 "Envoy::Http::FilterManager::decodeHeaders(Envoy::Http::ActiveStreamDecoderFilter*"
                 ", Envoy::Http::RequestHeaderMap&, bool)"}),
      {"Envoy::Http::FilterManager::decodeHeaders(Envoy::Http::ActiveStreamDecoderFilter*, "
       "Envoy::Http::RequestHeaderMap&, bool)::$_0::operator()(Envoy::Http::"
       "ActiveStreamDecoderFilter&) const"},
      0,
      6,
      {{{"Envoy::Router::Filter::decodeHeaders(Envoy::Http::RequestHeaderMap&, bool)",
         "Envoy::Router::Filter::continueDecodeHeaders(Envoy::Upstream::ThreadLocalCluster*, "
         "Envoy::Http::RequestHeaderMap&, bool, Envoy::Upstream::ResourcePriority, "
         "Envoy::Router::RouteEntry const*)",
         "Envoy::Upstream::ClusterManagerImpl::ThreadLocalClusterManagerImpl::ClusterEntry::"
         "httpConnPool(Envoy::Upstream::ResourcePriority, absl::optional<Envoy::Http::Protocol>, "
         "Envoy::Upstream::LoadBalancerContext*)",
         "Envoy::Upstream::EdfLoadBalancerBase::chooseHostOnce(Envoy::Upstream::"
         "LoadBalancerContext*)",
         "Envoy::Upstream::EdfScheduler<Envoy::Upstream::Host const>::pickAndAdd(std::function<"
         "double (Envoy::Upstream::Host const&)>)"},
        Sys::kNone,
        2},
       {{"Envoy::Extensions::HttpFilters::Wasm::Context::decodeHeaders(Envoy::Http::"
         "RequestHeaderMap&, bool)",
         "proxy_wasm::ContextBase::onRequestHeaders(unsigned int, bool)",
         "proxy_wasm::WasmBase::getFunction(std::basic_string_view<char, "
         "std::char_traits<char> >, std::function<proxy_wasm::Word (proxy_wasm::ContextBase*, "
         "proxy_wasm::Word, proxy_wasm::Word, proxy_wasm::Word)>*)",
         "[unknown]", "[unknown]", "[unknown]"},
        Sys::kNone,
        1.5},
       {{"Envoy::Stats::ThreadLocalStoreImpl::ScopeImpl::counterFromStatNameWithTags(Envoy::Stats::"
         "StatName const&, absl::optional<std::vector<std::pair<Envoy::Stats::StatName, "
         "Envoy::Stats::StatName> > > const&)",
         "Envoy::Stats::SymbolTable::join(std::vector<Envoy::Stats::StatName> const&) const",
         "absl::container_internal::raw_hash_set<...>::find(...)",
         "Envoy::Stats::StatName::dataSize() const"},
        Sys::kNone,
        1},
       {{"Envoy::Http::HeaderMapImpl::addCopy(Envoy::Http::LowerCaseString const&, "
         "std::basic_string_view<char, std::char_traits<char> >)",
         "Envoy::Http::HeaderMapImpl::insertByKey(Envoy::Http::HeaderString&&, "
         "Envoy::Http::HeaderString&&)",
         "operator new(unsigned long)", "malloc",
         "tcmalloc::ThreadCache::FetchFromCentralCache("
         "unsigned int, int, void* (*)(unsigned long))"},
        Sys::kPageFault,
        0.5}},
      3};
  Branch write{
      {"event_process_active", "event_process_active_single_queue",
       "Envoy::Event::FileEventImpl::assignEvents(unsigned int, "
       "event_base*)::$_1::__invoke(int, short, void*)",
       "Envoy::Event::FileEventImpl::mergeInjectedEventsAndRunCb(unsigned int)",
       "std::function<void (unsigned int)>::operator()(unsigned int) const",
       "Envoy::Network::ConnectionImpl::onFileEvent(unsigned int)",
       "Envoy::Network::ConnectionImpl::onWriteReady()",
       "Envoy::Extensions::TransportSockets::Tls::SslSocket::doWrite(Envoy::Buffer::"
       "Instance&, bool)",
       "SSL_write", "bssl::ssl_write_impl", "bssl::tls_flush_pending_hs_data",
       "bssl::ssl_write_buffer_flush(ssl_st*)", "bssl::BIO_write"},
      {},
      0,
      0,
      {{{"Envoy::Extensions::TransportSockets::Tls::(anonymous namespace)::io_handle_write("
         "bio_st*, char const*, int)",
         "Envoy::Network::IoSocketHandleImpl::writev(Envoy::Buffer::RawSlice const*, "
         "unsigned long)",
         "Envoy::Api::OsSysCallsImpl::writev(int, iovec const*, int)", "writev"},
        Sys::kWrite,
        1}},
      1};
  Path worker{root, {idle, socket_read, http, write}, 1};
  return {worker};
}

const std::vector<Path>& PathsOf(ProcessKind kind) {
  static const auto* java = new std::vector<Path>(JavaPaths());
  static const auto* go = new std::vector<Path>(GoPaths());
  static const auto* envoy = new std::vector<Path>(EnvoyPaths());
  switch (kind) {
    case ProcessKind::kJava:
      return *java;
    case ProcessKind::kGo:
      return *go;
    case ProcessKind::kEnvoy:
      return *envoy;
  }
  return *java;
}

// Kernel stacks (root first) for a leaf that enters the kernel through `sys`, on or off CPU.
std::vector<Frames> KernelStacks(Sys sys, EbpfTarget target) {
  const Frames syscall_entry = {"entry_SYSCALL_64_after_hwframe", "do_syscall_64"};
  const Frames switch_out = {"schedule", "__schedule", "finish_task_switch.isra.0"};
  bool off = target == EbpfTarget::kOffCpu;
  switch (sys) {
    case Sys::kNone:  // off CPU only: preempted while running user code
      if (!off) return {};
      return {Concat(Frames{"asm_sysvec_apic_timer_interrupt", "irqentry_exit_to_user_mode",
                            "exit_to_user_mode_prepare", "exit_to_user_mode_loop"},
                     switch_out),
              Concat(Frames{"asm_sysvec_reschedule_ipi", "irqentry_exit_to_user_mode",
                            "exit_to_user_mode_prepare", "exit_to_user_mode_loop"},
                     switch_out)};
    case Sys::kRead: {
      Frames read =
          Concat(syscall_entry, Frames{"__x64_sys_read", "ksys_read", "vfs_read", "sock_read_iter",
                                       "inet_recvmsg", "tcp_recvmsg", "tcp_recvmsg_locked"});
      Frames readv = Concat(syscall_entry, Frames{"__x64_sys_readv", "do_readv", "vfs_readv",
                                                  "do_iter_read", "sock_read_iter", "inet_recvmsg",
                                                  "tcp_recvmsg", "tcp_recvmsg_locked"});
      if (off) {
        Frames wait = {"sk_wait_data", "schedule_timeout"};
        return {Concat(read, wait, switch_out), Concat(readv, wait, switch_out)};
      }
      Frames copy = {"skb_copy_datagram_iter", "__skb_datagram_iter", "_copy_to_iter",
                     "copy_user_enhanced_fast_string"};
      return {
          Concat(read, copy), Concat(readv, copy),
          Concat(read, Frames{"tcp_cleanup_rbuf", "__tcp_send_ack.part.0", "__tcp_transmit_skb"})};
    }
    case Sys::kWrite: {
      Frames write =
          Concat(syscall_entry, Frames{"__x64_sys_write", "ksys_write", "vfs_write",
                                       "sock_write_iter", "sock_sendmsg", "tcp_sendmsg"});
      Frames writev = Concat(syscall_entry,
                             Frames{"__x64_sys_writev", "do_writev", "vfs_writev", "do_iter_write",
                                    "sock_write_iter", "sock_sendmsg", "tcp_sendmsg"});
      if (off) {
        Frames wait = {"tcp_sendmsg_locked", "sk_stream_wait_memory", "schedule_timeout"};
        return {Concat(write, wait, switch_out), Concat(writev, wait, switch_out),
                Concat(write, Frames{"lock_sock_nested", "__lock_sock"}, switch_out)};
      }
      return {Concat(write, Frames{"tcp_sendmsg_locked", "tcp_push", "__tcp_push_pending_frames",
                                   "tcp_write_xmit", "__tcp_transmit_skb", "ip_queue_xmit",
                                   "__ip_queue_xmit"}),
              Concat(writev, Frames{"tcp_sendmsg_locked", "skb_do_copy_data_nocache",
                                    "copy_user_enhanced_fast_string"})};
    }
    case Sys::kFutex: {
      Frames futex = Concat(syscall_entry, Frames{"__x64_sys_futex", "do_futex"});
      if (off) {
        return {Concat(futex, Frames{"futex_wait", "futex_wait_queue"}, switch_out),
                Concat(futex, Frames{"futex_wait", "futex_wait_queue_me"}, switch_out)};
      }
      return {Concat(futex, Frames{"futex_wake", "wake_up_q", "try_to_wake_up",
                                   "_raw_spin_unlock_irqrestore"}),
              Concat(futex, Frames{"futex_wait", "futex_wait_setup", "get_futex_key"})};
    }
    case Sys::kEpoll: {
      Frames epoll =
          Concat(syscall_entry, Frames{"__x64_sys_epoll_wait", "do_epoll_wait", "ep_poll"});
      if (off) return {Concat(epoll, Frames{"schedule_hrtimeout_range_clock"}, switch_out)};
      return {
          Concat(epoll, Frames{"ep_send_events", "ep_item_poll.isra.0", "sock_poll", "tcp_poll"}),
          Concat(epoll, Frames{"_raw_spin_lock_irqsave"})};
    }
    case Sys::kPageFault: {
      if (off) return {};
      Frames fault = {"asm_exc_page_fault", "exc_page_fault", "do_user_addr_fault",
                      "handle_mm_fault", "__handle_mm_fault"};
      return {Concat(fault, Frames{"do_anonymous_page", "alloc_pages_vma", "__alloc_pages",
                                   "get_page_from_freelist", "clear_page_erms"}),
              Concat(fault, Frames{"do_huge_pmd_anonymous_page", "vma_alloc_folio", "__folio_alloc",
                                   "__alloc_pages", "get_page_from_freelist", "prep_new_page",
                                   "clear_page_erms"})};
    }
  }
  return {};
}

// Typical time off CPU per switch, ns.
double OffCpuMedianNs(Sys sys) {
  switch (sys) {
    case Sys::kNone:
      return 80e3;
    case Sys::kRead:
      return 1.5e6;
    case Sys::kWrite:
      return 300e3;
    case Sys::kFutex:
      return 4e6;
    case Sys::kEpoll:
      return 25e6;
    case Sys::kPageFault:
      return 200e3;
  }
  return 1e6;
}

// How often a tail shows up under a target, relative to its base weight.
double TargetWeight(Sys sys, EbpfTarget target) {
  if (target == EbpfTarget::kOffCpu)
    return sys == Sys::kNone ? 0.3 : sys == Sys::kPageFault ? 0 : 1;
  switch (sys) {
    case Sys::kNone:
      return 1;
    case Sys::kFutex:
    case Sys::kEpoll:
      return 0.3;
    default:
      return 0.8;
  }
}

template <typename T, typename Weight>
const T& PickWeighted(const std::vector<T>& items, Weight weight, Rng& rng) {
  double total = 0;
  for (const T& item : items) total += weight(item);
  if (total <= 0) return items.back();
  double x = std::uniform_real_distribution<double>(0, total)(rng);
  for (const T& item : items) {
    x -= weight(item);
    if (x < 0) return item;
  }
  return items.back();
}

Frames Reversed(const Frames& frames) { return Frames(frames.rbegin(), frames.rend()); }

}  // namespace

const char* ProcessKindName(ProcessKind kind) {
  switch (kind) {
    case ProcessKind::kJava:
      return "java";
    case ProcessKind::kGo:
      return "go";
    case ProcessKind::kEnvoy:
      return "envoy";
  }
  return "unknown";
}

StackModel::StackModel(ProcessKind kind, EbpfTarget target, int distinct, uint64_t seed,
                       double zipf)
    : target_(target) {
  Rng rng(seed);
  const std::vector<Path>& paths = PathsOf(kind);
  absl::flat_hash_map<std::string, int32_t> kernel_ids;
  absl::flat_hash_map<std::string, int32_t> user_ids;
  absl::flat_hash_map<std::string, bool> seen;
  // Stack-map slots: not dense, not starting at 1.
  int32_t next_id = std::uniform_int_distribution<int32_t>(2, 500)(rng);
  auto id_of = [&](absl::flat_hash_map<std::string, int32_t>& ids, const std::string& key) {
    auto [it, inserted] = ids.try_emplace(key, next_id);
    if (inserted) next_id += std::uniform_int_distribution<int32_t>(1, 6)(rng);
    return it->second;
  };
  std::uniform_real_distribution<double> unit(0, 1);
  std::lognormal_distribution<double> jitter(0, 0.5);

  const int max_attempts = std::max(distinct, 1) * 200;
  for (int attempt = 0; attempt < max_attempts && static_cast<int>(stacks_.size()) < distinct;
       ++attempt) {
    const Path& path = PickWeighted(
        paths, [](const Path& p) { return p.weight; }, rng);
    const Branch& branch = PickWeighted(
        path.branches,
        [&](const Branch& b) {
          double usable = 0;
          for (const Tail& t : b.tails) usable += t.weight * TargetWeight(t.sys, target);
          return usable > 0 ? b.weight : 0.0;
        },
        rng);
    const Tail& tail = PickWeighted(
        branch.tails, [&](const Tail& t) { return t.weight * TargetWeight(t.sys, target); }, rng);
    if (TargetWeight(tail.sys, target) == 0) continue;

    // Repeats of the filler that keep the depth within bounds where possible.
    size_t fixed = path.root.size() + branch.frames.size() + tail.frames.size();
    int lo = branch.min_repeat;
    int hi = branch.max_repeat;
    if (!branch.filler.empty()) {
      size_t unit_size = branch.filler.size();
      if (fixed < kMinUserDepth) {
        lo = std::max<int>(lo,
                           static_cast<int>((kMinUserDepth - fixed + unit_size - 1) / unit_size));
      }
      hi = std::min<int>(
          hi, static_cast<int>((kMaxUserDepth - std::min(fixed, kMaxUserDepth)) / unit_size));
      if (lo > hi) lo = hi;
    }
    int repeat = hi > lo ? std::uniform_int_distribution<int>(lo, hi)(rng) : lo;
    Frames user = path.root;
    user.insert(user.end(), branch.frames.begin(), branch.frames.end());
    for (int r = 0; r < repeat; ++r)
      user.insert(user.end(), branch.filler.begin(), branch.filler.end());
    user.insert(user.end(), tail.frames.begin(), tail.frames.end());
    if (user.size() > kMaxUserDepth) user.resize(kMaxUserDepth);
    // Symbols Rover could not resolve: rare, so they mostly land in the long tail.
    if (user.size() > 3 && unit(rng) < kUnknownFrameProbability) {
      user[std::uniform_int_distribution<size_t>(1, user.size() - 2)(rng)] = "[unknown]";
    }
    if (user.size() > 3 && unit(rng) < kEmptyFrameProbability) {
      user[std::uniform_int_distribution<size_t>(1, user.size() - 2)(rng)] = "";
    }

    std::vector<Frames> kernels = KernelStacks(tail.sys, target);
    Frames kernel;
    if (!kernels.empty()) {
      kernel = kernels[std::uniform_int_distribution<size_t>(0, kernels.size() - 1)(rng)];
    }

    SimStack stack;
    stack.user = Reversed(user);
    stack.kernel = Reversed(kernel);
    std::string user_key = absl::StrJoin(stack.user, "\n");
    std::string kernel_key = absl::StrJoin(stack.kernel, "\n");
    if (!seen.try_emplace(absl::StrCat(kernel_key, "\x01", user_key), true).second) continue;
    stack.user_id = id_of(user_ids, user_key);
    stack.kernel_id = stack.kernel.empty() ? 0 : id_of(kernel_ids, kernel_key);
    stack.off_cpu_mean_ns = OffCpuMedianNs(tail.sys) * jitter(rng);
    stacks_.push_back(std::move(stack));
  }

  cumulative_.reserve(stacks_.size());
  double sum = 0;
  for (size_t i = 0; i < stacks_.size(); ++i) {
    sum += 1.0 / std::pow(static_cast<double>(i + 1), zipf);
    cumulative_.push_back(sum);
  }
}

size_t StackModel::Pick(Rng& rng) const {
  if (cumulative_.empty()) return 0;
  double x = std::uniform_real_distribution<double>(0, cumulative_.back())(rng);
  auto it = std::upper_bound(cumulative_.begin(), cumulative_.end(), x);
  return std::min(static_cast<size_t>(it - cumulative_.begin()), cumulative_.size() - 1);
}

int64_t StackModel::Sample(int64_t events, Rng& rng,
                           std::vector<skywalking::v3::EBPFProfilingData>* out) const {
  if (stacks_.empty() || events <= 0) return 0;
  absl::flat_hash_map<size_t, int64_t> counts;
  for (int64_t i = 0; i < events; ++i) ++counts[Pick(rng)];
  std::vector<std::pair<size_t, int64_t>> hits(counts.begin(), counts.end());
  std::sort(hits.begin(), hits.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  std::lognormal_distribution<double> jitter(0, 0.25);
  for (const auto& [index, count] : hits) {
    int32_t n = static_cast<int32_t>(std::min<int64_t>(count, std::numeric_limits<int32_t>::max()));
    int64_t duration = 0;
    if (target_ == EbpfTarget::kOffCpu) {
      duration = std::max<int64_t>(
          1, std::llround(static_cast<double>(n) * stacks_[index].off_cpu_mean_ns * jitter(rng)));
    }
    out->push_back(Message(index, n, duration));
  }
  return events;
}

skywalking::v3::EBPFProfilingData StackModel::Message(size_t index, int32_t count,
                                                      int64_t duration_ns) const {
  const SimStack& stack = stacks_[index];
  skywalking::v3::EBPFProfilingData data;
  auto fill = [&](skywalking::v3::EBPFProfilingStackMetadata* meta) {
    if (!stack.kernel.empty()) {
      meta->set_stacktype(skywalking::v3::PROCESS_KERNEL_SPACE);
      meta->set_stackid(stack.kernel_id);
      for (const std::string& symbol : stack.kernel) meta->add_stacksymbols(symbol);
    }
  };
  google::protobuf::RepeatedPtrField<skywalking::v3::EBPFProfilingStackMetadata>* stacks;
  if (target_ == EbpfTarget::kOffCpu) {
    auto* off = data.mutable_offcpu();
    off->set_switchcount(count);
    off->set_duration(duration_ns);
    stacks = off->mutable_stacks();
  } else {
    auto* on = data.mutable_oncpu();
    on->set_dumpcount(count);
    stacks = on->mutable_stacks();
  }
  if (!stack.kernel.empty()) fill(stacks->Add());
  auto* user = stacks->Add();
  user->set_stacktype(skywalking::v3::PROCESS_USER_SPACE);
  user->set_stackid(stack.user_id);
  for (const std::string& symbol : stack.user) user->add_stacksymbols(symbol);
  return data;
}

}  // namespace stackhouse::sim
