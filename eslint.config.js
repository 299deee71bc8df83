// Lint keeps functions small and promises handled; the caps are the project's style rules.
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["node_modules/**", "manifests/**", "**/*.js", "!eslint.config.js"] },
  ...tseslint.configs.recommended,
  {
    files: ["**/*.ts"],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      complexity: ["error", 12],
      "max-depth": ["error", 3],
      "max-params": ["error", 4],
      "max-lines-per-function": ["error", { max: 80, skipBlankLines: true, skipComments: true }],
      "max-lines": ["error", { max: 320, skipBlankLines: true, skipComments: true }],
      "@typescript-eslint/no-floating-promises": [
        "error",
        { allowForKnownSafeCalls: [{ from: "package", package: "node:test", name: ["describe", "it", "test", "suite", "before", "after", "beforeEach", "afterEach"] }] },
      ],
      "@typescript-eslint/no-misused-promises": ["error", { checksVoidReturn: { arguments: false } }],
      "@typescript-eslint/consistent-type-imports": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "no-restricted-syntax": ["error", { selector: "TSEnumDeclaration", message: "use an `as const` union" }],
      "no-restricted-properties": ["error", { object: "process", property: "env", message: "only main.ts reads the environment" }],
    },
  },
  {
    // Composition roots, scripts and the test harness's own entry read the environment.
    files: ["**/main.ts", "scripts/**/*.ts", "bench/**/*.ts", "test/env/config.ts"],
    rules: { "no-restricted-properties": "off" },
  },
  {
    // Test tables are long lists of cases; the caps are for logic, not for data.
    files: ["**/*.test.ts", "test/**/*.ts"],
    rules: { "max-lines-per-function": "off", "max-lines": ["error", { max: 600 }] },
  },
);
