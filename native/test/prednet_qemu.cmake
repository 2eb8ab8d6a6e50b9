# ctest helper: PredNet's prediction hash on this CPU must equal the hash under `qemu-x86_64 -cpu ${CPU}`.
execute_process(COMMAND "${BIN}" --print-hash OUTPUT_VARIABLE native RESULT_VARIABLE rc1 OUTPUT_STRIP_TRAILING_WHITESPACE)
execute_process(COMMAND "${QEMU}" -cpu "${CPU}" "${BIN}" --print-hash OUTPUT_VARIABLE emulated RESULT_VARIABLE rc2
                OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT rc1 EQUAL 0 OR NOT rc2 EQUAL 0)
  message(FATAL_ERROR "prednet hash runs failed: native rc ${rc1}, qemu -cpu ${CPU} rc ${rc2}")
endif()
string(REGEX MATCH "^[0-9a-f]+" h1 "${native}")
string(REGEX MATCH "^[0-9a-f]+" h2 "${emulated}")
message(STATUS "native: ${native}; qemu -cpu ${CPU}: ${emulated}")
if(NOT h1 STREQUAL h2)
  message(FATAL_ERROR "PredNet predictions differ: native ${native}, qemu -cpu ${CPU} ${emulated}")
endif()
