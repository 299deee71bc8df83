# One image, one entrypoint per part (the controller is not built yet): each server bundled by
# scripts/bundle.ts into a few ES module files (dist/apiserver/main.js with its decode worker,
# dist/webhook/main.js), which start faster than the few hundred modules they come from
# (docs/bundle.md); restic >= 0.17 is built from source because Debian's is older;
# pg_dump/pg_restore come from Debian.
FROM golang:1.24-bookworm AS restic
RUN CGO_ENABLED=0 GOBIN=/out go install github.com/restic/restic/cmd/restic@v0.18.1

FROM node:24-bookworm-slim AS bundle
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY api ./api
COPY kube ./kube
COPY certs ./certs
COPY restic ./restic
COPY webhook ./webhook
COPY apiserver ./apiserver
COPY scripts/bundle.ts ./scripts/
RUN node scripts/bundle.ts dist

FROM node:24-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends postgresql-client ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY --from=restic /out/restic /usr/local/bin/restic
WORKDIR /app
COPY package.json package-lock.json ./
# The bundles load one package at run time (yaml, for a kubeconfig file, never in a pod) from
# here; everything else is inside them.
RUN npm ci --omit=dev --no-audit --no-fund
COPY --from=bundle /src/dist ./dist
COPY scripts/bundle.ts scripts/warm-compile-cache.ts ./scripts/
# Node's compile cache (each bundle file's V8 code cache), built once here as the user the pods
# run as and where the pods run the files from (Node keys it by path): a new pod compiles
# nothing from scratch, in its main thread or in its decode workers. Read-only at run time.
ENV NODE_COMPILE_CACHE=/app/.node-compile-cache
RUN mkdir -p "$NODE_COMPILE_CACHE" && chown 65532:65532 "$NODE_COMPILE_CACHE"
USER 65532:65532
RUN node scripts/warm-compile-cache.ts --bundle dist
ENTRYPOINT ["node"]
