# Turns every file under ASSETS_DIR into bytes in a generated C++ file (OUT), so the dashboard's
# pages are part of the capf binary and nothing is fetched at run time.
# Usage: cmake -DASSETS_DIR=... -DOUT=... -P embed_assets.cmake
file(GLOB_RECURSE files RELATIVE ${ASSETS_DIR} ${ASSETS_DIR}/*)
list(SORT files)
set(arrays "")
set(entries "")
set(i 0)
foreach(f ${files})
  file(READ ${ASSETS_DIR}/${f} hex HEX)
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
  get_filename_component(ext ${f} LAST_EXT)
  if(ext STREQUAL ".html")
    set(type "text/html; charset=utf-8")
  elseif(ext STREQUAL ".css")
    set(type "text/css; charset=utf-8")
  elseif(ext STREQUAL ".js")
    set(type "text/javascript; charset=utf-8")
  elseif(ext STREQUAL ".svg")
    set(type "image/svg+xml")
  elseif(ext STREQUAL ".png")
    set(type "image/png")
  else()
    set(type "application/octet-stream")
  endif()
  string(APPEND arrays "const unsigned char a${i}[] = {${bytes}0x00};\n")
  string(APPEND entries "      {\"/${f}\", \"${type}\", std::string_view(reinterpret_cast<const char*>(a${i}), sizeof a${i} - 1)},\n")
  math(EXPR i "${i} + 1")
endforeach()
set(content "// Generated from web/assets/ by web/embed_assets.cmake; do not edit.
#include \"capf/web/assets.hpp\"

namespace capf::web {
namespace {
${arrays}}  // namespace

const std::vector<Asset>& assets() {
  static const std::vector<Asset> list = {
${entries}  };
  return list;
}

}  // namespace capf::web
")
# Rewrite only on change, so an unchanged asset set does not rebuild the library.
if(EXISTS ${OUT})
  file(READ ${OUT} old)
endif()
if(NOT "${old}" STREQUAL "${content}")
  file(WRITE ${OUT} "${content}")
endif()
