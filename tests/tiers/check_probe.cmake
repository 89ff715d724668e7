# SPDX-License-Identifier: GPL-3.0-or-later
# Builds one tier probe and checks the outcome: EXPECT=compiles or fails
# (and then fails because HEADER cannot be found, not for another reason).
execute_process(COMMAND ${CMAKE_COMMAND} --build ${BUILD_DIR} --target ${TARGET}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
string(APPEND out "${err}")
if(EXPECT STREQUAL "compiles")
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${TARGET} should compile but did not:\n${out}")
  endif()
  message(STATUS "${TARGET}: compiles, as the hierarchy allows")
else()
  if(rc EQUAL 0)
    message(FATAL_ERROR "${TARGET} compiled: a tier reached ${HEADER}, which the hierarchy forbids")
  endif()
  string(FIND "${out}" "${HEADER}: No such file or directory" found)
  if(found EQUAL -1)
    message(FATAL_ERROR "${TARGET} failed, but not because ${HEADER} is out of reach:\n${out}")
  endif()
  message(STATUS "${TARGET}: refused (${HEADER} is out of reach), as the hierarchy requires")
endif()
