# ctest driver of the graphql-js interoperability check. Fails (never skips) when Node.js or the
# npm dependencies are missing. Inputs: DUMP, TESTDATA, JS_DIR, WORK_DIR.
find_program(NODE node)
if(NOT NODE)
  message(FATAL_ERROR "node not found: install Node.js (the project's install-deps does)")
endif()
if(NOT EXISTS "${JS_DIR}/node_modules/graphql/package.json")
  message(FATAL_ERROR "graphql-js is not installed: run `npm ci` in ${JS_DIR}")
endif()

set(QUERY "${WORK_DIR}/introspection_query.graphql")
set(RESULT "${WORK_DIR}/introspection.json")

# 1. The standard introspection query, as graphql-js (GraphiQL) writes it.
execute_process(COMMAND ${NODE} ${JS_DIR}/check_introspection.mjs --print-query ${QUERY}
                RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "printing the introspection query failed")
endif()
# 2. Our engine answers it.
execute_process(COMMAND ${DUMP} ${TESTDATA} ${QUERY} ${RESULT} RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "graphql_introspection_dump failed")
endif()
# 3. graphql-js builds a client schema from the answer and validates documents with it.
execute_process(COMMAND ${NODE} ${JS_DIR}/check_introspection.mjs ${RESULT} RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "graphql-js rejected the introspection result")
endif()
