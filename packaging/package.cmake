# Installation layout and the Debian package: `cpack -G DEB` in the build directory makes
# capf_<version>_<arch>.deb with /usr/bin/capf, the systemd unit and /etc/capf/capf.conf.
# Included by the top CMakeLists.txt.

set(CAPF_PACKAGING_DIR ${CMAKE_CURRENT_LIST_DIR})

install(FILES ${CAPF_PACKAGING_DIR}/capf.service DESTINATION lib/systemd/system)
# /etc is outside the /usr prefix on purpose (Debian policy); CPack DEB keeps absolute paths.
install(FILES ${CAPF_PACKAGING_DIR}/capf.conf DESTINATION /etc/capf)
install(FILES ${CMAKE_SOURCE_DIR}/README.md ${CMAKE_SOURCE_DIR}/docs/arch/config.md DESTINATION share/doc/capf)

set(CPACK_PACKAGE_NAME capf)
set(CPACK_PACKAGE_VENDOR "capf")
set(CPACK_PACKAGE_CONTACT "capf maintainers <capf@localhost>")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Certificate Authority Proxy Function for IP phone fleets")
set(CPACK_PACKAGE_DESCRIPTION
    "capf issues, upgrades and deletes Locally Significant Certificates on IP phones in batch jobs, over the CAPF protocol on TLS port 3804, signed by its own CA, an online CA or an offline CA.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_WARN_ON_ABSOLUTE_INSTALL_DESTINATION OFF)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_COMPRESSION_TYPE gzip)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${CAPF_PACKAGING_DIR}/debian/conffiles
    ${CAPF_PACKAGING_DIR}/debian/postinst
    ${CAPF_PACKAGING_DIR}/debian/prerm
    ${CAPF_PACKAGING_DIR}/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_GENERATOR DEB)
include(CPack)
