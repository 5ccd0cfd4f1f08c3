#include "simulator/java_app_model.h"

#include <algorithm>
#include <cmath>
#include <initializer_list>

#include "absl/strings/str_cat.h"

namespace stackhouse::sim {
namespace {

using Frames = std::vector<std::string>;

void Add(Frames* out, std::initializer_list<absl::string_view> frames) {
  for (absl::string_view frame : frames) out->emplace_back(frame);
}

// Index of a weighted choice.
size_t Pick(Rng& rng, std::initializer_list<double> weights) {
  std::discrete_distribution<size_t> dist(weights);
  return dist(rng);
}

double Uniform(Rng& rng, double lo, double hi) {
  return std::uniform_real_distribution<double>(lo, hi)(rng);
}

// Tomcat worker thread down to the Spring Security filter chain: shared by every stack.
void AddServletPrefix(Frames* f) {
  Add(f, {
             "java.lang.Thread.run:840",
             "org.apache.tomcat.util.threads.TaskThread$WrappingRunnable.run:61",
             "org.apache.tomcat.util.threads.ThreadPoolExecutor$Worker.run:659",
             "org.apache.tomcat.util.threads.ThreadPoolExecutor.runWorker:1191",
             "org.apache.tomcat.util.net.SocketProcessorBase.run:52",
             "org.apache.tomcat.util.net.NioEndpoint$SocketProcessor.doRun:1739",
             "org.apache.coyote.AbstractProtocol$ConnectionHandler.process:893",
             "org.apache.coyote.AbstractProcessorLight.process:63",
             "org.apache.coyote.http11.Http11Processor.service:399",
             "org.apache.catalina.connector.CoyoteAdapter.service:344",
             "org.apache.catalina.core.StandardEngineValve.invoke:74",
             "org.apache.catalina.valves.ErrorReportValve.invoke:93",
             "org.apache.catalina.core.StandardHostValve.invoke:135",
             "org.apache.catalina.authenticator.AuthenticatorBase.invoke:482",
             "org.apache.catalina.core.StandardContextValve.invoke:90",
             "org.apache.catalina.core.StandardWrapperValve.invoke:197",
             "org.apache.catalina.core.ApplicationFilterChain.doFilter:166",
             "org.apache.catalina.core.ApplicationFilterChain.internalDoFilter:206",
             "org.springframework.web.filter.OncePerRequestFilter.doFilter:116",
             "org.springframework.web.filter.CharacterEncodingFilter.doFilterInternal:201",
             "org.apache.catalina.core.ApplicationFilterChain.doFilter:166",
             "org.apache.catalina.core.ApplicationFilterChain.internalDoFilter:206",
             "org.springframework.web.filter.DelegatingFilterProxy.doFilter:267",
             "org.springframework.web.filter.DelegatingFilterProxy.invokeDelegate:354",
             "org.springframework.security.web.FilterChainProxy.doFilter:186",
             "org.springframework.security.web.FilterChainProxy.doFilterInternal:223",
         });
}

void AddAuth(Frames* f, Rng& rng) {
  Add(f, {
             "org.springframework.security.web.FilterChainProxy$VirtualFilterChain.doFilter:374",
             "org.springframework.web.filter.OncePerRequestFilter.doFilter:116",
             "org.springframework.security.oauth2.server.resource.web.authentication."
             "BearerTokenAuthenticationFilter.doFilterInternal:137",
             "org.springframework.security.authentication.ProviderManager.authenticate:182",
             "org.springframework.security.oauth2.server.resource.authentication."
             "JwtAuthenticationProvider.authenticate:88",
             "org.springframework.security.oauth2.server.resource.authentication."
             "JwtAuthenticationProvider.getJwt:97",
             "org.springframework.security.oauth2.jwt.NimbusJwtDecoder.decode:153",
             "org.springframework.security.oauth2.jwt.NimbusJwtDecoder.createJwt:170",
             "com.nimbusds.jwt.proc.DefaultJWTProcessor.process:353",
         });
  size_t v = Pick(rng, {0.8, 0.17, 0.03});
  if (v == 2) {
    Add(f, {
               "com.nimbusds.jwt.SignedJWT.getJWTClaimsSet:121",
               "com.nimbusds.jose.util.JSONObjectUtils.parse:107",
               "com.nimbusds.jose.shaded.gson.Gson.fromJson:1227",
               "com.nimbusds.jose.shaded.gson.internal.bind.ObjectTypeAdapter.read:117",
               "com.nimbusds.jose.shaded.gson.stream.JsonReader.doPeek:553",
           });
    return;
  }
  Add(f, {
             "com.nimbusds.jose.crypto.RSASSAVerifier.verify:297",
             "java.security.Signature.verify:789",
             "java.security.Signature$Delegate.engineVerify:1435",
             "sun.security.rsa.RSASignature.engineVerify:211",
             "sun.security.rsa.RSACore.rsa:108",
             "java.math.BigInteger.modPow:1059",
             "java.math.BigInteger.oddModPow:1427",
         });
  if (v == 0) {
    Add(f, {"java.math.BigInteger.montgomerySquare:1163",
            "java.math.BigInteger.implMontgomerySquare:1196"});
  } else {
    Add(f, {"java.math.BigInteger.montgomeryMultiply:1138"});
  }
}

// From the rest of the filter chain to the handler adapter (17 frames).
void AddDispatch(Frames* f, const Route& r) {
  Add(f, {
             "org.springframework.security.web.FilterChainProxy$VirtualFilterChain.doFilter:361",
             "org.apache.catalina.core.ApplicationFilterChain.doFilter:166",
             "org.apache.catalina.core.ApplicationFilterChain.internalDoFilter:206",
             "org.springframework.web.filter.OncePerRequestFilter.doFilter:116",
             "org.springframework.web.filter.RequestContextFilter.doFilterInternal:100",
             "org.apache.catalina.core.ApplicationFilterChain.doFilter:166",
             "org.apache.catalina.core.ApplicationFilterChain.internalDoFilter:231",
             "javax.servlet.http.HttpServlet.service:764",
             "org.springframework.web.servlet.FrameworkServlet.service:883",
         });
  if (r.http_method == "POST") {
    Add(f, {"javax.servlet.http.HttpServlet.service:681",
            "org.springframework.web.servlet.FrameworkServlet.doPost:909"});
  } else if (r.http_method == "PUT") {
    Add(f, {"javax.servlet.http.HttpServlet.service:684",
            "org.springframework.web.servlet.FrameworkServlet.doPut:920"});
  } else if (r.http_method == "DELETE") {
    Add(f, {"javax.servlet.http.HttpServlet.service:687",
            "org.springframework.web.servlet.FrameworkServlet.doDelete:931"});
  } else {
    Add(f, {"javax.servlet.http.HttpServlet.service:670",
            "org.springframework.web.servlet.FrameworkServlet.doGet:898"});
  }
  Add(f, {
             "org.springframework.web.servlet.FrameworkServlet.processRequest:1006",
             "org.springframework.web.servlet.DispatcherServlet.doService:964",
             "org.springframework.web.servlet.DispatcherServlet.doDispatch:1067",
             "org.springframework.web.servlet.mvc.method.AbstractHandlerMethodAdapter.handle:87",
             "org.springframework.web.servlet.mvc.method.annotation."
             "RequestMappingHandlerAdapter.handleInternal:808",
             "org.springframework.web.servlet.mvc.method.annotation."
             "RequestMappingHandlerAdapter.invokeHandlerMethod:895",
         });
}

void AddSerialize(Frames* f, Rng& rng) {
  Add(f, {
             "org.springframework.web.servlet.mvc.method.annotation."
             "ServletInvocableHandlerMethod.invokeAndHandle:131",
             "org.springframework.web.method.support.HandlerMethodReturnValueHandlerComposite."
             "handleReturnValue:78",
             "org.springframework.web.servlet.mvc.method.annotation."
             "RequestResponseBodyMethodProcessor.handleReturnValue:181",
             "org.springframework.web.servlet.mvc.method.annotation."
             "AbstractMessageConverterMethodProcessor.writeWithMessageConverters:293",
             "org.springframework.http.converter.AbstractGenericHttpMessageConverter.write:104",
             "org.springframework.http.converter.json.AbstractJackson2HttpMessageConverter."
             "writeInternal:456",
             "com.fasterxml.jackson.databind.ObjectWriter.writeValue:1572",
             "com.fasterxml.jackson.databind.ObjectWriter$Prefetch.serialize:1518",
             "com.fasterxml.jackson.databind.ser.DefaultSerializerProvider.serializeValue:480",
             "com.fasterxml.jackson.databind.ser.DefaultSerializerProvider._serialize:502",
             "com.fasterxml.jackson.databind.ser.impl.IndexedListSerializer.serialize:79",
             "com.fasterxml.jackson.databind.ser.impl.IndexedListSerializer.serializeContents:119",
             "com.fasterxml.jackson.databind.ser.BeanSerializer.serialize:178",
             "com.fasterxml.jackson.databind.ser.std.BeanSerializerBase.serializeFields:774",
         });
  switch (Pick(rng, {0.45, 0.2, 0.15, 0.15, 0.05})) {
    case 0:
      Add(f, {
                 "com.fasterxml.jackson.databind.ser.BeanPropertyWriter.serializeAsField:733",
                 "com.fasterxml.jackson.databind.ser.std.StringSerializer.serialize:41",
                 "com.fasterxml.jackson.core.json.UTF8JsonGenerator.writeString:525",
                 "com.fasterxml.jackson.core.json.UTF8JsonGenerator._writeStringSegments:1330",
                 "com.fasterxml.jackson.core.json.UTF8JsonGenerator._writeStringSegment2:1399",
             });
      break;
    case 1:
      Add(f, {
                 "com.fasterxml.jackson.databind.ser.BeanPropertyWriter.serializeAsField:733",
                 "com.fasterxml.jackson.databind.ser.std.NumberSerializer.serialize:102",
                 "com.fasterxml.jackson.core.json.UTF8JsonGenerator.writeNumber:1069",
                 "java.math.BigDecimal.toString:3227",
                 "java.math.BigDecimal.layoutChars:3484",
             });
      break;
    case 2:
      Add(f, {
                 "com.fasterxml.jackson.databind.ser.BeanPropertyWriter.serializeAsField:733",
                 "com.fasterxml.jackson.datatype.jsr310.ser.InstantSerializerBase.serialize:110",
                 "java.time.format.DateTimeFormatter.format:1848",
                 "java.time.format.DateTimeFormatter.formatTo:1873",
                 "java.time.format.DateTimeFormatterBuilder$InstantPrinterParser.format:3824",
             });
      break;
    case 3:
      Add(f, {
                 "com.fasterxml.jackson.databind.ser.BeanPropertyWriter.serializeAsField:728",
                 "jdk.internal.reflect.GeneratedMethodAccessor112.invoke:-1",
                 "jdk.internal.reflect.DelegatingMethodAccessorImpl.invoke:43",
                 "java.lang.reflect.Method.invoke:568",
             });
      break;
    default:
      Add(f, {
                 "com.fasterxml.jackson.databind.ser.BeanPropertyWriter.serializeAsField:733",
                 "com.fasterxml.jackson.databind.ser.std.StringSerializer.serialize:41",
                 "com.fasterxml.jackson.core.json.UTF8JsonGenerator.writeString:517",
                 "com.fasterxml.jackson.core.json.UTF8JsonGenerator._flushBuffer:2203",
                 "org.apache.catalina.connector.CoyoteOutputStream.write:96",
                 "org.apache.catalina.connector.OutputBuffer.writeBytes:394",
                 "org.apache.tomcat.util.net.NioEndpoint$NioSocketWrapper.doWrite:1410",
                 "sun.nio.ch.SocketChannelImpl.write:538",
                 "sun.nio.ch.IOUtil.write:62",
                 "sun.nio.ch.SocketDispatcher.write0:-2",
             });
      break;
  }
}

// invokeAndHandle down to the service's CGLIB proxy, stopping before the transaction's proceed.
void AddHandlerToTransaction(Frames* f, const Route& r) {
  Add(f, {
             "org.springframework.web.servlet.mvc.method.annotation."
             "ServletInvocableHandlerMethod.invokeAndHandle:117",
             "org.springframework.web.method.support.InvocableHandlerMethod.invokeForRequest:150",
             "org.springframework.web.method.support.InvocableHandlerMethod.doInvoke:205",
         });
  f->push_back(absl::StrCat("jdk.internal.reflect.GeneratedMethodAccessor", r.accessor_number,
                            ".invoke:-1"));
  Add(f, {"jdk.internal.reflect.DelegatingMethodAccessorImpl.invoke:43",
          "java.lang.reflect.Method.invoke:568"});
  f->push_back(absl::StrCat(r.controller, ".", r.handler, ":", r.handler_line));
  f->push_back(absl::StrCat(r.service, "$$SpringCGLIB$$0.", r.service_method, ":-1"));
  Add(f, {
             "org.springframework.aop.framework.CglibAopProxy$DynamicAdvisedInterceptor."
             "intercept:713",
             "org.springframework.aop.framework.ReflectiveMethodInvocation.proceed:186",
             "org.springframework.transaction.interceptor.TransactionInterceptor.invoke:119",
         });
}

void AddPoolWait(Frames* f) {
  Add(f, {
             "org.springframework.transaction.interceptor.TransactionAspectSupport."
             "invokeWithinTransaction:382",
             "org.springframework.transaction.interceptor.TransactionAspectSupport."
             "createTransactionIfNecessary:595",
             "org.springframework.transaction.support.AbstractPlatformTransactionManager."
             "getTransaction:373",
             "org.springframework.transaction.support.AbstractPlatformTransactionManager."
             "startTransaction:400",
             "org.springframework.jdbc.datasource.DataSourceTransactionManager.doBegin:265",
             "com.zaxxer.hikari.HikariDataSource.getConnection:123",
             "com.zaxxer.hikari.pool.HikariPool.getConnection:181",
             "com.zaxxer.hikari.util.ConcurrentBag.borrow:162",
             "java.util.concurrent.SynchronousQueue.poll:903",
             "java.util.concurrent.SynchronousQueue$TransferStack.transfer:401",
             "java.util.concurrent.locks.LockSupport.parkNanos:252",
             "jdk.internal.misc.Unsafe.park:-2",
         });
}

void AddSocketRead(Frames* f) {
  Add(f, {
             "java.net.Socket$SocketInputStream.read:966",
             "sun.nio.ch.NioSocketImpl.read:299",
             "sun.nio.ch.NioSocketImpl.implRead:323",
             "sun.nio.ch.NioSocketImpl.timedRead:288",
             "sun.nio.ch.NioSocketImpl.park:181",
             "sun.nio.ch.Net.poll:-2",
         });
}

void AddCache(Frames* f, Rng& rng) {
  Add(f, {
             "com.example.shop.cache.OrderCache.lookup:37",
             "jdk.proxy2.$Proxy142.get:-1",
             "io.lettuce.core.internal.AbstractInvocationHandler.invoke:80",
         });
  if (Pick(rng, {0.85, 0.15}) == 0) {
    Add(f, {
               "io.lettuce.core.FutureSyncInvocationHandler.handleInvocation:75",
               "io.lettuce.core.internal.Futures.awaitOrCancel:244",
               "io.lettuce.core.protocol.AsyncCommand.await:83",
               "java.util.concurrent.CompletableFuture.get:2095",
               "java.util.concurrent.CompletableFuture.timedGet:1939",
               "java.util.concurrent.locks.LockSupport.parkNanos:252",
               "jdk.internal.misc.Unsafe.park:-2",
           });
  } else {
    Add(f, {
               "io.lettuce.core.FutureSyncInvocationHandler.handleInvocation:62",
               "io.lettuce.core.AbstractRedisAsyncCommands.get:638",
               "io.lettuce.core.AbstractRedisAsyncCommands.dispatch:675",
               "io.lettuce.core.StatefulRedisConnectionImpl.dispatch:169",
               "io.lettuce.core.protocol.DefaultEndpoint.write:188",
               "io.lettuce.core.protocol.DefaultEndpoint.writeToChannelAndFlush:404",
           });
  }
}

void AddDbQuery(Frames* f, const Route& r, double progress, Rng& rng) {
  f->push_back(r.repository_frame);
  Add(f, {
             "org.springframework.jdbc.core.JdbcTemplate.query:733",
             "org.springframework.jdbc.core.JdbcTemplate.execute:651",
             "org.springframework.jdbc.core.JdbcTemplate$1.doInPreparedStatement:722",
             "com.zaxxer.hikari.pool.HikariProxyPreparedStatement.executeQuery:-1",
             "com.mysql.cj.jdbc.ClientPreparedStatement.executeQuery:1003",
             "com.mysql.cj.jdbc.ClientPreparedStatement.executeInternal:916",
             "com.mysql.cj.NativeSession.execSQL:1008",
             "com.mysql.cj.protocol.a.NativeProtocol.sendQueryString:1041",
             "com.mysql.cj.protocol.a.NativeProtocol.sendQueryPacket:993",
         });
  if (progress < 0.03 || Pick(rng, {0.97, 0.03}) == 1) {
    Add(f, {
               "com.mysql.cj.protocol.a.NativeProtocol.sendCommand:661",
               "com.mysql.cj.protocol.a.SimplePacketSender.send:55",
               "java.io.BufferedOutputStream.flush:142",
               "java.net.Socket$SocketOutputStream.write:1120",
               "sun.nio.ch.NioSocketImpl.write:413",
               "sun.nio.ch.NioSocketImpl.implWrite:393",
               "sun.nio.ch.SocketDispatcher.write0:-2",
           });
    return;
  }
  Add(f, {
             "com.mysql.cj.protocol.a.NativeProtocol.sendCommand:680",
             "com.mysql.cj.protocol.a.TimeTrackingPacketReader.readHeader:41",
             "com.mysql.cj.protocol.a.SimplePacketReader.readHeader:63",
             "com.mysql.cj.protocol.FullReadInputStream.readFully:64",
             "java.io.BufferedInputStream.read:343",
         });
  AddSocketRead(f);
}

void AddDbRows(Frames* f, const Route& r, Rng& rng) {
  f->push_back(r.repository_frame);
  Add(f, {
             "org.springframework.jdbc.core.JdbcTemplate.query:733",
             "org.springframework.jdbc.core.JdbcTemplate.execute:651",
             "org.springframework.jdbc.core.JdbcTemplate$1.doInPreparedStatement:723",
             "org.springframework.jdbc.core.RowMapperResultSetExtractor.extractData:93",
         });
  switch (Pick(rng, {0.4, 0.25, 0.2, 0.15})) {
    case 0:
      Add(f, {
                 "com.example.shop.repository.OrderRowMapper.mapRow:29",
                 "com.zaxxer.hikari.pool.HikariProxyResultSet.getString:-1",
                 "com.mysql.cj.jdbc.result.ResultSetImpl.getString:846",
                 "com.mysql.cj.protocol.result.AbstractResultsetRow.getValueFromBytes:241",
                 "com.mysql.cj.result.StringValueFactory.createFromBytes:134",
                 "java.lang.String.<init>:540",
             });
      break;
    case 1:
      Add(f, {
                 "com.example.shop.repository.OrderRowMapper.mapRow:31",
                 "com.zaxxer.hikari.pool.HikariProxyResultSet.getBigDecimal:-1",
                 "com.mysql.cj.jdbc.result.ResultSetImpl.getBigDecimal:596",
                 "com.mysql.cj.protocol.result.AbstractResultsetRow.getValueFromBytes:241",
                 "com.mysql.cj.result.BigDecimalValueFactory.createFromBigDecimal:77",
                 "java.math.BigDecimal.<init>:543",
             });
      break;
    case 2:
      Add(f, {
                 "com.example.shop.repository.OrderRowMapper.mapRow:33",
                 "com.zaxxer.hikari.pool.HikariProxyResultSet.getTimestamp:-1",
                 "com.mysql.cj.jdbc.result.ResultSetImpl.getTimestamp:1048",
                 "com.mysql.cj.result.SqlTimestampValueFactory.localCreateFromTimestamp:109",
                 "java.util.Calendar.getInstance:1701",
             });
      break;
    default:
      Add(f, {
                 "com.zaxxer.hikari.pool.HikariProxyResultSet.next:-1",
                 "com.mysql.cj.jdbc.result.ResultSetImpl.next:1813",
                 "com.mysql.cj.protocol.a.result.ResultsetRowsStatic.next:86",
             });
      break;
  }
}

void AddHttpCall(Frames* f, const Route& r, bool connecting) {
  f->push_back(r.client_frame);
  f->push_back(r.rest_template_frame);
  Add(f,
      {
          "org.springframework.web.client.RestTemplate.execute:783",
          "org.springframework.web.client.RestTemplate.doExecute:819",
          "org.springframework.http.client.AbstractBufferingClientHttpRequest.executeInternal:48",
          "org.springframework.http.client.HttpComponentsClientHttpRequest.executeInternal:93",
          "org.apache.http.impl.client.CloseableHttpClient.execute:56",
          "org.apache.http.impl.client.InternalHttpClient.doExecute:185",
      });
  if (connecting) {
    Add(f, {
               "org.apache.http.impl.execchain.MainClientExec.execute:236",
               "org.apache.http.impl.execchain.MainClientExec.establishRoute:393",
               "org.apache.http.impl.conn.PoolingHttpClientConnectionManager.connect:376",
               "org.apache.http.impl.conn.DefaultHttpClientConnectionOperator.connect:142",
               "org.apache.http.conn.socket.PlainConnectionSocketFactory.connectSocket:75",
               "java.net.Socket.connect:633",
               "sun.nio.ch.NioSocketImpl.connect:560",
               "sun.nio.ch.NioSocketImpl.timedFinishConnect:542",
               "sun.nio.ch.NioSocketImpl.park:181",
               "sun.nio.ch.Net.poll:-2",
           });
    return;
  }
  Add(f, {
             "org.apache.http.impl.execchain.MainClientExec.execute:272",
             "org.apache.http.protocol.HttpRequestExecutor.execute:125",
             "org.apache.http.protocol.HttpRequestExecutor.doReceiveResponse:273",
             "org.apache.http.impl.DefaultBHttpClientConnection.receiveResponseHeader:163",
             "org.apache.http.impl.io.AbstractMessageParser.parse:259",
             "org.apache.http.impl.io.DefaultHttpResponseParser.parseHead:88",
             "org.apache.http.impl.io.SessionInputBufferImpl.readLine:280",
             "org.apache.http.impl.io.SessionInputBufferImpl.fillBuffer:153",
             "org.apache.http.impl.io.SessionInputBufferImpl.streamRead:137",
         });
  AddSocketRead(f);
}

void AddMapping(Frames* f, const Route& r, Rng& rng) {
  std::string mapper = absl::StrCat(r.service, "Mapper");
  f->push_back(absl::StrCat(mapper, ".toDtos:31"));
  Add(f, {
             "java.util.stream.ReferencePipeline.collect:682",
             "java.util.stream.AbstractPipeline.evaluate:234",
             "java.util.stream.ReduceOps$ReduceOp.evaluateSequential:169",
             "java.util.stream.AbstractPipeline.wrapAndCopyInto:499",
             "java.util.stream.AbstractPipeline.copyInto:509",
             "java.util.ArrayList$ArrayListSpliterator.forEachRemaining:1625",
             "java.util.stream.ReferencePipeline$3$1.accept:197",
         });
  switch (Pick(rng, {0.5, 0.3, 0.15, 0.05})) {
    case 0:
      f->push_back(absl::StrCat(mapper, ".toDto:48"));
      Add(f, {
                 "com.example.shop.service.PriceCalculator.totalWithTax:71",
                 "java.math.BigDecimal.multiply:5075",
                 "java.math.BigDecimal.multiplyAndRound:5183",
             });
      break;
    case 1:
      f->push_back(absl::StrCat(mapper, ".toDto:52"));
      Add(f, {
                 "java.lang.String.format:4150",
                 "java.util.Formatter.format:2689",
                 "java.util.Formatter$FormatSpecifier.print:2917",
             });
      break;
    case 2:
      f->push_back(absl::StrCat(mapper, ".toDto:55"));
      Add(f, {
                 "java.time.format.DateTimeFormatter.format:1848",
                 "java.time.format.DateTimeFormatter.formatTo:1873",
                 "java.time.format.DateTimeFormatterBuilder$CompositePrinterParser.format:2402",
             });
      break;
    default:
      f->push_back(absl::StrCat(mapper, ".lambda$toDto$0:61"));
      Add(f, {"java.util.HashMap.computeIfAbsent:1220", "java.util.HashMap.resize:702"});
      break;
  }
}

void AddLogging(Frames* f, Rng& rng) {
  Add(f, {
             "ch.qos.logback.classic.Logger.info:479",
             "ch.qos.logback.classic.Logger.filterAndLog_1:422",
             "ch.qos.logback.classic.Logger.buildLoggingEventAndAppend:425",
             "ch.qos.logback.classic.Logger.callAppenders:270",
             "ch.qos.logback.core.spi.AppenderAttachableImpl.appendLoopOnAppenders:51",
             "ch.qos.logback.core.UnsynchronizedAppenderBase.doAppend:84",
             "ch.qos.logback.core.OutputStreamAppender.append:84",
             "ch.qos.logback.core.OutputStreamAppender.subAppend:234",
         });
  if (Pick(rng, {0.6, 0.4}) == 0) {
    Add(f, {
               "ch.qos.logback.core.OutputStreamAppender.writeOut:199",
               "java.util.concurrent.locks.ReentrantLock.lock:322",
               "java.util.concurrent.locks.AbstractQueuedSynchronizer.acquire:938",
               "java.util.concurrent.locks.LockSupport.park:211",
               "jdk.internal.misc.Unsafe.park:-2",
           });
  } else {
    Add(f, {
               "ch.qos.logback.core.OutputStreamAppender.writeBytes:210",
               "ch.qos.logback.core.recovery.ResilientOutputStreamBase.flush:80",
               "java.io.BufferedOutputStream.flush:142",
               "java.io.FileOutputStream.write:349",
               "java.io.FileOutputStream.writeBytes:-2",
           });
  }
}

// Line of the service method that starts each kind of work.
int ServiceLineOffset(PhaseKind kind) {
  switch (kind) {
    case PhaseKind::kCache:
      return 0;
    case PhaseKind::kDbQuery:
    case PhaseKind::kDbRows:
      return 3;
    case PhaseKind::kHttpCall:
      return 7;
    case PhaseKind::kMapping:
      return 11;
    case PhaseKind::kLogging:
      return 15;
    default:
      return 0;
  }
}

std::vector<Route> AllRoutes(absl::string_view primary_endpoint) {
  std::vector<Route> routes;

  Route primary;
  primary.endpoint = std::string(primary_endpoint);
  size_t colon = primary_endpoint.find(':');
  primary.http_method =
      colon == absl::string_view::npos ? "GET" : std::string(primary_endpoint.substr(0, colon));
  primary.path = colon == absl::string_view::npos ? std::string(primary_endpoint)
                                                  : std::string(primary_endpoint.substr(colon + 1));
  primary.controller = "com.example.shop.web.OrderController";
  primary.handler = "listOrders";
  primary.handler_line = 57;
  primary.service = "com.example.shop.service.OrderService";
  primary.service_method = "listOrders";
  primary.service_line = 79;
  primary.accessor_number = 87;
  primary.repository_frame = "com.example.shop.repository.OrderRepository.findRecentByCustomer:41";
  primary.db_operation = "Mysql/JDBC/PreparedStatement/executeQuery";
  primary.db_statement =
      "select o.id, o.status, o.total, o.created_at from orders o where o.customer_id = ? "
      "order by o.created_at desc limit ?";
  primary.client_frame = "com.example.shop.client.InventoryClient.stockLevels:44";
  primary.rest_template_frame = "org.springframework.web.client.RestTemplate.exchange:681";
  primary.remote_peer = "inventory-svc:8080";
  primary.remote_method = "GET";
  primary.remote_path = "/api/stock";
  primary.median_ms = 550;
  primary.sigma = 0.7;
  primary.min_ms = 200;
  primary.max_ms = 3000;
  primary.error_rate = 0.02;
  primary.phases = {
      {PhaseKind::kAuth, 1.0, 0.03, 0.06},      {PhaseKind::kPoolWait, 0.05, 0.2, 0.4},
      {PhaseKind::kCache, 0.9, 0.01, 0.03},     {PhaseKind::kDbQuery, 1.0, 0.3, 0.5},
      {PhaseKind::kDbRows, 1.0, 0.05, 0.12},    {PhaseKind::kHttpCall, 0.7, 0.15, 0.3},
      {PhaseKind::kMapping, 1.0, 0.05, 0.12},   {PhaseKind::kLogging, 0.1, 0.01, 0.03},
      {PhaseKind::kSerialize, 1.0, 0.08, 0.18},
  };
  routes.push_back(primary);

  Route get_order = primary;
  get_order.endpoint = "GET:/orders/{id}";
  get_order.http_method = "GET";
  get_order.path = "/orders/{id}";
  get_order.handler = "getOrder";
  get_order.handler_line = 71;
  get_order.service_method = "getOrder";
  get_order.service_line = 131;
  get_order.accessor_number = 91;
  get_order.repository_frame = "com.example.shop.repository.OrderRepository.findById:63";
  get_order.db_statement =
      "select o.id, o.status, o.total, o.created_at from orders o where o.id = ?";
  get_order.median_ms = 25;
  get_order.sigma = 0.6;
  get_order.min_ms = 4;
  get_order.max_ms = 400;
  get_order.error_rate = 0.01;
  get_order.phases = {
      {PhaseKind::kAuth, 1.0, 0.1, 0.2},      {PhaseKind::kCache, 0.8, 0.05, 0.1},
      {PhaseKind::kDbQuery, 1.0, 0.3, 0.5},   {PhaseKind::kDbRows, 1.0, 0.05, 0.1},
      {PhaseKind::kSerialize, 1.0, 0.1, 0.2},
  };
  routes.push_back(get_order);

  Route checkout = primary;
  checkout.endpoint = "POST:/checkout";
  checkout.http_method = "POST";
  checkout.path = "/checkout";
  checkout.controller = "com.example.shop.web.CheckoutController";
  checkout.handler = "checkout";
  checkout.handler_line = 38;
  checkout.service = "com.example.shop.service.CheckoutService";
  checkout.service_method = "placeOrder";
  checkout.service_line = 52;
  checkout.accessor_number = 93;
  checkout.repository_frame = "com.example.shop.repository.OrderRepository.findOpenCart:88";
  checkout.db_statement =
      "select c.id, c.sku, c.quantity, c.price from cart_items c where c.customer_id = ?";
  checkout.client_frame = "com.example.shop.client.PaymentClient.charge:52";
  checkout.rest_template_frame = "org.springframework.web.client.RestTemplate.postForObject:468";
  checkout.remote_peer = "payment-svc:8080";
  checkout.remote_method = "POST";
  checkout.remote_path = "/api/payments";
  checkout.median_ms = 180;
  checkout.sigma = 0.6;
  checkout.min_ms = 40;
  checkout.max_ms = 2000;
  checkout.error_rate = 0.03;
  checkout.phases = {
      {PhaseKind::kAuth, 1.0, 0.04, 0.08},    {PhaseKind::kPoolWait, 0.03, 0.2, 0.4},
      {PhaseKind::kDbQuery, 1.0, 0.15, 0.3},  {PhaseKind::kDbRows, 1.0, 0.03, 0.06},
      {PhaseKind::kHttpCall, 1.0, 0.3, 0.5},  {PhaseKind::kMapping, 0.6, 0.03, 0.08},
      {PhaseKind::kLogging, 0.2, 0.01, 0.03}, {PhaseKind::kSerialize, 1.0, 0.03, 0.06},
  };
  routes.push_back(checkout);

  Route status = primary;
  status.endpoint = "GET:/status";
  status.http_method = "GET";
  status.path = "/status";
  status.controller = "com.example.shop.web.StatusController";
  status.handler = "status";
  status.handler_line = 23;
  status.service = "com.example.shop.service.StatusService";
  status.service_method = "snapshot";
  status.service_line = 18;
  status.accessor_number = 102;
  status.median_ms = 3;
  status.sigma = 0.5;
  status.min_ms = 1;
  status.max_ms = 30;
  status.error_rate = 0;
  status.phases = {{PhaseKind::kMapping, 0.5, 0.2, 0.4}, {PhaseKind::kSerialize, 1.0, 0.6, 0.8}};
  routes.push_back(status);

  // The primary route's name wins over another route of the same name.
  for (size_t i = routes.size(); i-- > 1;) {
    if (routes[i].endpoint == routes[0].endpoint) routes.erase(routes.begin() + i);
  }
  return routes;
}

}  // namespace

JavaAppModel::JavaAppModel(absl::string_view primary_endpoint)
    : routes_(AllRoutes(primary_endpoint)) {}

const Route& JavaAppModel::PickRoute(double primary_share, Rng& rng) const {
  if (routes_.size() == 1 || Uniform(rng, 0, 1) < primary_share) return routes_[0];
  std::uniform_int_distribution<size_t> other(1, routes_.size() - 1);
  return routes_[other(rng)];
}

RequestPlan JavaAppModel::Plan(const Route& route, Rng& rng) const {
  RequestPlan plan;
  plan.route = &route;
  std::lognormal_distribution<double> duration(std::log(route.median_ms), route.sigma);
  plan.duration_ms =
      std::clamp(static_cast<int64_t>(std::llround(duration(rng))), route.min_ms, route.max_ms);
  plan.error = Uniform(rng, 0, 1) < route.error_rate;
  plan.http_connects = Uniform(rng, 0, 1) < 0.1;

  std::vector<std::pair<PhaseKind, double>> chosen;
  double total_share = 0;
  for (const PhaseTemplate& t : route.phases) {
    if (Uniform(rng, 0, 1) >= t.probability) continue;
    double share = Uniform(rng, t.min_share, t.max_share);
    chosen.emplace_back(t.kind, share);
    total_share += share;
  }
  if (chosen.empty()) chosen.emplace_back(PhaseKind::kSerialize, total_share = 1);
  double at = 0;
  for (const auto& [kind, share] : chosen) {
    double next = at + share / total_share * static_cast<double>(plan.duration_ms);
    plan.phases.push_back({kind, std::llround(at), std::llround(next)});
    at = next;
  }
  plan.phases.back().end_ms = plan.duration_ms;
  return plan;
}

std::vector<std::string> JavaAppModel::Dump(const RequestPlan& plan, int64_t offset_ms,
                                            Rng& rng) const {
  const Route& r = *plan.route;
  const Phase* phase = &plan.phases.front();
  for (const Phase& p : plan.phases) {
    if (p.begin_ms <= offset_ms) phase = &p;
  }
  int64_t length = std::max<int64_t>(1, phase->end_ms - phase->begin_ms);
  double progress = std::clamp(
      static_cast<double>(offset_ms - phase->begin_ms) / static_cast<double>(length), 0.0, 1.0);

  Frames f;
  f.reserve(84);
  AddServletPrefix(&f);
  if (phase->kind == PhaseKind::kAuth) {
    AddAuth(&f, rng);
    return f;
  }
  AddDispatch(&f, r);
  if (phase->kind == PhaseKind::kSerialize) {
    AddSerialize(&f, rng);
    return f;
  }
  AddHandlerToTransaction(&f, r);
  if (phase->kind == PhaseKind::kPoolWait) {
    AddPoolWait(&f);
    return f;
  }
  Add(&f, {
              "org.springframework.transaction.interceptor.TransactionAspectSupport."
              "invokeWithinTransaction:388",
              "org.springframework.aop.framework.CglibAopProxy$CglibMethodInvocation."
              "invokeJoinpoint:792",
          });
  f.push_back(absl::StrCat(r.service, ".", r.service_method, ":",
                           r.service_line + ServiceLineOffset(phase->kind)));
  switch (phase->kind) {
    case PhaseKind::kCache:
      AddCache(&f, rng);
      break;
    case PhaseKind::kDbQuery:
      AddDbQuery(&f, r, progress, rng);
      break;
    case PhaseKind::kDbRows:
      AddDbRows(&f, r, rng);
      break;
    case PhaseKind::kHttpCall:
      AddHttpCall(&f, r, plan.http_connects && progress < 0.15);
      break;
    case PhaseKind::kMapping:
      AddMapping(&f, r, rng);
      break;
    case PhaseKind::kLogging:
      AddLogging(&f, rng);
      break;
    default:
      break;
  }
  return f;
}

}  // namespace stackhouse::sim
