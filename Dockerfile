# The ferry pusher image: `ferry push` on Node 20, no dev dependencies, non-root.
# Built by the pipeline with Kaniko from this repository (see "The pusher image" in README.md).

FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY bin ./bin
COPY lib ./lib
COPY imports ./imports
RUN npm run build

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /opt/ferry
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY --from=build /src/build ./build
COPY bin/ferry ./bin/ferry
RUN ln -s /opt/ferry/bin/ferry /usr/local/bin/ferry
# By number, so Kubernetes runAsNonRoot can verify it; the same id the Argo templates run as.
USER 65532:65532
ENTRYPOINT ["ferry", "push"]
