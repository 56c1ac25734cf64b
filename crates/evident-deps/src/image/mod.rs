//! OS packages inside an image filesystem: dpkg, apk and rpm databases, from a directory, a docker-archive tarball or an OCI image layout tarball.
