# cmake --install: the binaries, kvstore::client with its headers (client/, common/ and the
# generated kvstore/v1 messages), the .proto files, and kvstoreConfig.cmake, so another
# project can find_package(kvstore) and target_link_libraries(app kvstore::client).
include(CMakePackageConfigHelpers)

install(TARGETS kvstore_server RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
if(KVSTORE_WITH_GRPC)
  install(TARGETS kvstore_test_proxy RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()

install(TARGETS kvstore_client kvstore_common kvstore_protos
        EXPORT kvstoreTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/client/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/client
        FILES_MATCHING PATTERN "*.h" PATTERN "python" EXCLUDE)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/common/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/common
        FILES_MATCHING PATTERN "*.h")
install(DIRECTORY ${PROJECT_BINARY_DIR}/protos/kvstore/v1/
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/kvstore/v1 FILES_MATCHING PATTERN "*.pb.h")
install(DIRECTORY ${PROJECT_SOURCE_DIR}/protos/kvstore/
        DESTINATION ${CMAKE_INSTALL_DATADIR}/kvstore/protos/kvstore FILES_MATCHING PATTERN "*.proto")

set(kvstore_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/kvstore)
install(EXPORT kvstoreTargets NAMESPACE kvstore:: DESTINATION ${kvstore_cmake_dir})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/kvstoreConfig.cmake.in
  ${PROJECT_BINARY_DIR}/kvstoreConfig.cmake
  INSTALL_DESTINATION ${kvstore_cmake_dir}
  PATH_VARS CMAKE_INSTALL_BINDIR)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/kvstoreConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/kvstoreConfig.cmake
              ${PROJECT_BINARY_DIR}/kvstoreConfigVersion.cmake
        DESTINATION ${kvstore_cmake_dir})
