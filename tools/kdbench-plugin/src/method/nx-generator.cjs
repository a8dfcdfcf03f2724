/**
 * What nx loads for `nx g @kdbench/tools:method`: nx 24 on Node 20 cannot load a TypeScript
 * generator without ts-node or @swc-node, so this CommonJS wrapper loads generator.ts through tsx
 * (already a dev dependency of the workspace) and applies it to nx's Tree.
 */
const { require: tsxRequire } = require('tsx/cjs/api');

const { generateMethod, nextSteps } = tsxRequire('./generator.ts', __filename);

module.exports = async function methodGenerator(tree, options) {
  generateMethod(tree, options);
  return () => {
    console.log(nextSteps(options));
  };
};
