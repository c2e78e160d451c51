# The Mercurial JIT App. Build: docker build -t mercurial-jit .
# Run:   docker run -p 3000:3000 -v jit-data:/app/.data --env-file jit.env mercurial-jit
# (jit.env: unquoted NAME=value lines, APP_ID, PRIVATE_KEY, WEBHOOK_SECRET, APP_URL, …; see README "Run the App").

FROM node:24-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY policies ./policies
COPY app ./app
# `npm ci` builds through `prepare`: the compiled App in build/, and in build/pglite-template/ the
# initialised and migrated store that a fresh embedded store starts as a copy of.
RUN npm ci --no-audit --no-fund

FROM node:24-slim
# Every address: Probot's default, localhost, is the container's own, which a published port never reaches.
ENV NODE_ENV=production PORT=3000 HOST=0.0.0.0
WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies only; --ignore-scripts skips `prepare`, whose compiler is a dev dependency.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/build ./build
COPY bin ./bin
# The embedded store (PGlite) lives in ./.data unless DATABASE_URL points at PostgreSQL.
RUN mkdir -p /app/.data && chown node:node /app/.data
VOLUME ["/app/.data"]
USER node
EXPOSE 3000
# /healthz answers 200 once the store answers a query; node:24-slim has no curl, so Node asks.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.PORT}/healthz`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# What `npm start` runs once built. Started directly rather than through npm, the App is PID 1 and
# gets the container's SIGTERM itself, so it finishes in-flight webhooks and closes the store.
CMD ["node", "build/app/server.js"]
