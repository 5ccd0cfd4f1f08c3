# ctest driver of the browser test. Fails (never skips) when Node.js, the npm dependencies,
# Chromium or the simulator are missing. Inputs: SERVER, SIMULATOR, CONFIG, JS_DIR, ARTIFACTS.
find_program(NODE node)
if(NOT NODE)
  message(FATAL_ERROR "node not found: install Node.js (scripts/install-deps.sh --test does)")
endif()
if(NOT EXISTS "${JS_DIR}/node_modules/playwright-core/package.json")
  message(FATAL_ERROR "playwright-core is not installed: run `npm ci` in ${JS_DIR}")
endif()
if(NOT SIMULATOR)
  message(FATAL_ERROR "stackhouse-sim is not built: configure with -DSTACKHOUSE_BUILD_BENCH=ON")
endif()
execute_process(
  COMMAND ${NODE} ${JS_DIR}/browser_test.mjs
    --server ${SERVER} --simulator ${SIMULATOR} --config ${CONFIG} --artifacts ${ARTIFACTS}
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "the browser test failed (exit ${rc}); see the output above and ${ARTIFACTS}")
endif()
