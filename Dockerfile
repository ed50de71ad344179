# syntax=docker/dockerfile:1
# One image for every EcoLoop process; the command picks the role:
#   npm run api (default) | npm run worker | npm run migrate
# The app runs its TypeScript through tsx (a runtime dependency), so there is no compile step.

# ---- dependencies: production packages only, installed from the lockfile ----
FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# Install scripts keep npm's default behaviour (no --ignore-scripts; see `allowScripts` in
# package.json for the dependency that needs one).
RUN npm ci --omit=dev && npm cache clean --force

# ---- runtime ----
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false
WORKDIR /app
# Code and packages stay owned by root: the process can read them, not change them.
COPY --from=deps /app/node_modules ./node_modules
COPY . .
# Bundle the workflows once at build time: workers start in about a second instead of bundling.
RUN npm run build:workflows
# The image's unprivileged user (uid 1000), never root.
USER node
EXPOSE 3000
CMD ["npm", "run", "api"]
