# The slokeeper operator image. Build: docker build -t slokeeper:dev .
# Runs as a numeric non-root user, needs no writable path (run it with readOnlyRootFilesystem),
# and holds only the package and its dependencies: no compilers, no shell tools beyond the base.
# The base is pinned by version; a release pipeline should also pin it by digest
# (python:3.12.8-slim-bookworm@sha256:…) and rebuild when the base is patched.
FROM python:3.12.8-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY operator ./operator
RUN python -m venv /opt/slokeeper \
 && /opt/slokeeper/bin/pip install --no-compile .

FROM python:3.12.8-slim-bookworm
ENV PATH=/opt/slokeeper/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
COPY --from=build /opt/slokeeper /opt/slokeeper
USER 65532:65532
EXPOSE 8080 8081
ENTRYPOINT ["slokeeper", "run"]
