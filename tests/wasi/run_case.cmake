# Runs one WASI test case (see CMakeLists.txt): builds a fresh tree under
# WORK/NAME, runs wasi_run with the three standard preopens, and compares
# exit code, stdout and stderr with expected/NAME.*. Then checks that the
# guest left alone what lies outside its writable preopens: the directory
# next to the sandbox (reachable only by escaping) and the read-only one.
# WORKNAME (the test's name) keeps the two modes of a case apart when ctest
# runs them in parallel; NAME picks the expected output.
if(NOT WORKNAME)
  set(WORKNAME "${NAME}")
endif()
set(dir "${WORK}/${WORKNAME}")
file(REMOVE_RECURSE "${dir}")
file(MAKE_DIRECTORY "${dir}/root/sub/deeper" "${dir}/outside" "${dir}/ro/rosub" "${dir}/other")
file(WRITE "${dir}/root/hello.txt" "hello\n")
file(WRITE "${dir}/root/sub/inner.txt" "inner\n")
file(WRITE "${dir}/outside/secret.txt" "secret\n")
file(WRITE "${dir}/ro/ro.txt" "read only\n")
file(WRITE "${dir}/stdin.txt" "line one\nline two\n")
file(CREATE_LINK "hello.txt" "${dir}/root/link_in" SYMBOLIC)
file(CREATE_LINK "sub" "${dir}/root/link_sub" SYMBOLIC)
file(CREATE_LINK "../hello.txt" "${dir}/root/sub/link_parent" SYMBOLIC)
file(CREATE_LINK "../outside/secret.txt" "${dir}/root/link_out" SYMBOLIC)
file(CREATE_LINK "../outside" "${dir}/root/link_out_dir" SYMBOLIC)
file(CREATE_LINK ".." "${dir}/root/link_dotdot" SYMBOLIC)
file(CREATE_LINK "/etc/passwd" "${dir}/root/link_abs" SYMBOLIC)
file(CREATE_LINK "loop_b" "${dir}/root/loop_a" SYMBOLIC)
file(CREATE_LINK "loop_a" "${dir}/root/loop_b" SYMBOLIC)
file(CREATE_LINK "nothing_here" "${dir}/root/dangling" SYMBOLIC)
file(CREATE_LINK "../outside/new.txt" "${dir}/root/dangling_out" SYMBOLIC)
file(CREATE_LINK "../ro/ro.txt" "${dir}/root/link_to_ro" SYMBOLIC)

set(stdin_file "${dir}/stdin.txt")
if(STDIN)
  set(stdin_file "${STDIN}")
endif()
# The module sits in the case's directory and is named relatively, so the
# guest's argv[0] is its file name whichever runner passes it on.
file(COPY "${WASM}" DESTINATION "${dir}")
get_filename_component(wasm_name "${WASM}" NAME)
execute_process(
  COMMAND "${RUN}" ${OPTS} --dir "${dir}/root::/sandbox" --dir "${dir}/ro::/ro:ro"
          --dir "${dir}/other::/other" "${wasm_name}" ${ARGS}
  WORKING_DIRECTORY "${dir}"
  INPUT_FILE "${stdin_file}"
  OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)

# ASan (SBX_SANITIZE builds) warns once when a trap or proc_exit unwinds
# off the wasm stack; that is the runtime's doing, not the guest's output.
string(REGEX REPLACE "==[0-9]+==WARNING: ASan is ignoring requested __asan_handle_no_return[^\n]*\n[^\n]*\n[^\n]*\n" "" err "${err}")

set(failed "")
if(NOT rc STREQUAL EXIT)
  string(APPEND failed "exit code: got '${rc}', expected '${EXIT}'\n")
endif()
file(READ "${EXPECTED}/${NAME}.stdout" want_out)
if(NOT out STREQUAL want_out)
  file(WRITE "${dir}/actual.stdout" "${out}")
  string(APPEND failed "stdout differs (actual: ${dir}/actual.stdout)\n")
endif()
set(want_err "")
if(EXISTS "${EXPECTED}/${NAME}.stderr")
  file(READ "${EXPECTED}/${NAME}.stderr" want_err)
endif()
if(NOT err STREQUAL want_err)
  file(WRITE "${dir}/actual.stderr" "${err}")
  string(APPEND failed "stderr differs (actual: ${dir}/actual.stderr):\n${err}\n")
endif()

# Nothing outside the writable preopens changed.
file(GLOB_RECURSE outside LIST_DIRECTORIES true RELATIVE "${dir}/outside" "${dir}/outside/*")
if(NOT outside STREQUAL "secret.txt")
  string(APPEND failed "the directory outside the sandbox changed: ${outside}\n")
endif()
file(READ "${dir}/outside/secret.txt" secret)
if(NOT secret STREQUAL "secret\n")
  string(APPEND failed "outside/secret.txt changed\n")
endif()
file(GLOB_RECURSE ro LIST_DIRECTORIES true RELATIVE "${dir}/ro" "${dir}/ro/*")
list(SORT ro)
if(NOT ro STREQUAL "ro.txt;rosub")
  string(APPEND failed "the read-only preopen changed: ${ro}\n")
endif()
file(READ "${dir}/ro/ro.txt" rotxt)
if(NOT rotxt STREQUAL "read only\n")
  string(APPEND failed "ro/ro.txt changed\n")
endif()

if(failed)
  message("---- stdout ----\n${out}---- stderr ----\n${err}----")
  message(FATAL_ERROR "${NAME}:\n${failed}")
endif()
