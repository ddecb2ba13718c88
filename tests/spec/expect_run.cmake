# Runs `sbx spec` on one JSON file and checks the outcome, for the runner's
# self-tests. Arguments (-D): SBX, JSON, RC (expected exit status), LAST (the
# expected closing line), MATCH (a regex the output must also match).
execute_process(COMMAND "${SBX}" spec "${JSON}"
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
message("${out}${err}")
string(STRIP "${out}" stripped)
string(REGEX MATCH "[^\n]*$" last "${stripped}")
if(NOT "${rc}" STREQUAL "${RC}")
  message(FATAL_ERROR "self-test: sbx spec exited with '${rc}', expected ${RC}")
endif()
if(NOT "${last}" STREQUAL "${LAST}")
  message(FATAL_ERROR "self-test: closing line is '${last}', expected '${LAST}'")
endif()
if(DEFINED MATCH AND NOT "${out}" MATCHES "${MATCH}")
  message(FATAL_ERROR "self-test: output does not match '${MATCH}'")
endif()
message("self-test: ok")
