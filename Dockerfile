FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run generate && npm run build
ENV NODE_ENV=production
EXPOSE 3000
# node itself, not npm: signals reach the app, and no npm process stays resident beside it
CMD ["node", "dist/src/main.js"]
