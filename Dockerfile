# The slokeeper operator image. Build: docker build -t slokeeper:dev .
# Runs as a numeric non-root user, needs no writable path (run it with readOnlyRootFilesystem),
# and holds only the package and its dependencies: no compilers, no shell tools beyond the base.
# The base is pinned by version; a release pipeline should also pin it by digest
# (python:3.12.8-slim-bookworm@sha256:…) and rebuild when the base is patched.
# BASE is any Debian-like image with python3 and its venv module: the real-node tests pass the
# locally made localhost/slokeeper-base:bookworm, since they have no registry.
ARG BASE=python:3.12.8-slim-bookworm

FROM ${BASE} AS build
# Extra options for pip: an offline build puts a wheelhouse in the context's wheels/ and passes
# PIP_INSTALL_OPTIONS="--no-index --find-links=/src/wheels".
ARG PIP_INSTALL_OPTIONS=""
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
# wheels/ only when the context has one (README.md is there because COPY needs a source that exists);
# the same trick for the locks, which an offline wheelhouse build does without.
COPY README.md wheel[s] ./wheels/
COPY README.md requirements.loc[k] requirements-build.loc[k] ./locks/
# The dependencies come from requirements.lock (`make lock`): exact versions, every file checked
# against its hash, nothing resolved at build time. The package itself goes in with --no-deps,
# built by a separate venv holding the pinned setuptools and wheel (not left in the image).
# Without the locks only an offline build (a wheelhouse in wheels/, made for the local real-node
# tests) may install; a release build without them fails here.
RUN python3 -m venv /opt/slokeeper \
 && if [ -f locks/requirements.lock ]; then \
      /opt/slokeeper/bin/pip install --no-compile --require-hashes --no-deps ${PIP_INSTALL_OPTIONS} \
        -r locks/requirements.lock \
      && python3 -m venv /opt/build \
      && /opt/build/bin/pip install --require-hashes --no-deps ${PIP_INSTALL_OPTIONS} \
        -r locks/requirements-build.lock ; \
    elif ! ls wheels/*.whl >/dev/null 2>&1; then \
      echo "requirements.lock is not in the build context: run \`make lock\`" >&2; exit 1; \
    fi
COPY operator ./operator
RUN if [ -d /opt/build ]; then \
      /opt/build/bin/pip wheel --no-deps --no-build-isolation --wheel-dir /tmp/dist . \
      && /opt/slokeeper/bin/pip install --no-compile --no-deps --no-index /tmp/dist/slokeeper-*.whl \
      && /opt/slokeeper/bin/pip check ; \
    else \
      /opt/slokeeper/bin/pip install --no-compile ${PIP_INSTALL_OPTIONS} . ; \
    fi

FROM ${BASE}
ENV PATH=/opt/slokeeper/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
COPY --from=build /opt/slokeeper /opt/slokeeper
USER 65532:65532
EXPOSE 8080 8081
# The image is the CLI; with no arguments it runs the operator. The chart passes `run` itself (the
# entry point once was `slokeeper run`, and its Pod died with "unrecognized arguments: run").
ENTRYPOINT ["slokeeper"]
CMD ["run"]
