# SPDX-License-Identifier: GPL-3.0-or-later
# oe_tier(NAME BELOW <lib>): the library of one tier, linking the tier below PRIVATE.
# oe_executable(NAME SOURCES ...): the thin executable of a tier.
function(oe_tier name)
  cmake_parse_arguments(T "" "BELOW" "" ${ARGN})
  file(GLOB srcs CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/src/*.cpp)
  add_library(${name}_lib STATIC ${srcs})
  set_target_properties(${name}_lib PROPERTIES OUTPUT_NAME ${name})
  target_include_directories(${name}_lib PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/include
                                         PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/src)
  target_link_libraries(${name}_lib PUBLIC oe::core)
  if(T_BELOW)
    target_link_libraries(${name}_lib PRIVATE ${T_BELOW})
  endif()
  add_library(oe::${name} ALIAS ${name}_lib)
endfunction()

function(oe_executable name)
  file(GLOB srcs CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/cli/*.cpp)
  add_executable(${name} ${srcs})
  target_include_directories(${name} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/cli)
  target_link_libraries(${name} PRIVATE oe::${name})
  # Its Debian package (packaging/CMakeLists.txt): poe goes with xoe.
  set(component ${name})
  if(name STREQUAL "poe")
    set(component xoe)
  endif()
  install(TARGETS ${name} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT ${component})
endfunction()
