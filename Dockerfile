# One image, one entrypoint per part (webhook/main.ts, apiserver/main.ts; the controller is not built yet):
# Node 24 runs the TypeScript directly (type stripping); restic >= 0.17 is built from source
# because Debian's is older; pg_dump/pg_restore come from Debian.
FROM golang:1.24-bookworm AS restic
RUN CGO_ENABLED=0 GOBIN=/out go install github.com/restic/restic/cmd/restic@v0.18.1

FROM node:24-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends postgresql-client ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY --from=restic /out/restic /usr/local/bin/restic
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY api ./api
COPY kube ./kube
COPY certs ./certs
COPY restic ./restic
COPY webhook ./webhook
COPY apiserver ./apiserver
COPY scripts/warm-compile-cache.ts ./scripts/
# Node's compile cache (every module's type-stripped source and V8 code cache), built once here
# as the user the pods run as: a new pod starts without stripping types and compiling from
# scratch, in its main thread and in each worker. Read-only at run time.
ENV NODE_COMPILE_CACHE=/app/.node-compile-cache
RUN mkdir -p "$NODE_COMPILE_CACHE" && chown 65532:65532 "$NODE_COMPILE_CACHE"
USER 65532:65532
RUN node scripts/warm-compile-cache.ts
ENTRYPOINT ["node"]
