# The ferry pusher image: `ferry` (push, copy, sync) on Node 24 LTS, no dev dependencies, non-root.
# Built by the pipeline with Kaniko from this repository (see docs/push-credentials.md).
# NODE_VERSION is the one place the image's Node version is written: .ci/run reads it
# to run the push tests on the same version.
ARG NODE_VERSION=24.21.0

FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY bin ./bin
COPY lib ./lib
# tsconfig.build.json compiles bin/ferry.ts and what it imports, nothing else.
RUN npm run build

FROM node:${NODE_VERSION}-bookworm-slim
ENV NODE_ENV=production
# glibc's allocator: Node reads and copies every HTTP chunk into fresh 64 KiB buffers, and by
# default glibc returns the freed top of its heap to the kernel and page-faults it back in for the
# next chunk. Keeping up to 32 MiB and backing the heap with transparent huge pages (where the
# kernel offers them on request) cut ferry copy's page faults by about two thirds and its CPU by
# about a fifth (docs/push.md, "Tests and benchmark"). Setting the trim threshold also fixes the
# mmap threshold at its 128 KiB start (mallopt(3): either one turns the dynamic threshold off), so
# ferry push's larger file-read buffers were each mapped, faulted in and unmapped (push CPU 0.65 ->
# 2.2 s): buffers up to 4 MiB stay on the heap. Only allocator behaviour: no effect on what is sent.
ENV GLIBC_TUNABLES=glibc.malloc.hugetlb=1:glibc.malloc.mmap_threshold=4194304:glibc.malloc.trim_threshold=33554432
WORKDIR /opt/ferry
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY --from=build /src/build ./build
COPY bin/ferry ./bin/ferry
RUN ln -s /opt/ferry/bin/ferry /usr/local/bin/ferry
# By number, so Kubernetes runAsNonRoot can verify it; the same id the Argo templates run as.
USER 65532:65532
# Run with no arguments, the image pushes IMAGE_TAR to IMAGE_URI (`ferry push` reads both,
# and AWS_ECR_ENDPOINT, from the environment): the contract of the push wrapper this image
# replaces, kept so such containers keep working. The Argo templates set the command
# (ferry copy, ferry sync) explicitly and never rely on CMD.
ENTRYPOINT ["ferry"]
CMD ["push"]
