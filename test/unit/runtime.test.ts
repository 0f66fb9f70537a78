import {strict as assert} from 'node:assert'

/**
 * The machines have Node 20; the project's own install must bring a supported Node (the `node`
 * devDependency, first on PATH in npm scripts) for the tests and the CLI alike.
 */
describe('runtime', () => {
  it('runs on Node 22 or later, as package.json engines demands', () => {
    const major = Number(process.versions.node.split('.')[0])
    assert.ok(major >= 22, `tests run on Node ${process.versions.node}; npm ci should have installed Node 24 under node_modules/.bin`)
  })
})
